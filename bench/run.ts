/**
 * `npm run bench`: every benchmark, in one run. Figures and ratios, never pass/fail. The handler benchmark
 * runs last: its final line, `efficiency handler/openssl: R`, is the line issue 18 quotes.
 * `COUNTERSIGN_BENCH_QUICK=1` skips the end-to-end benchmark (minutes of key generation and signing) and
 * shortens the handler's (see handler-throughput.ts).
 */
import { benchEndToEnd } from './e2e.js'
import { benchHandlerThroughput } from './handler-throughput.js'
import { benchMpc } from './mpc.js'
import { benchPolicyDecision } from './policy-decision.js'
import { benchStartup } from './startup.js'

const print = (line: string) => void process.stdout.write(`${line}\n`)
const QUICK = process.env.COUNTERSIGN_BENCH_QUICK === '1'

// Startup packs the package, whose `prepare` builds dist/: the end-to-end benchmark runs the built command.
benchStartup(print)
await benchPolicyDecision(print)
await benchMpc(print)
if (QUICK) print('e2e: skipped (COUNTERSIGN_BENCH_QUICK=1)')
else await benchEndToEnd(print)
await benchHandlerThroughput(print)
