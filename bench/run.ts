/**
 * `npm run bench`: every benchmark, in one run. Figures and ratios, never pass/fail. The handler benchmark
 * runs last: its final line, `efficiency handler/openssl: R`, is the line issue 18 quotes.
 */
import { benchHandlerThroughput } from './handler-throughput.js'
import { benchMpc } from './mpc.js'
import { benchPolicyDecision } from './policy-decision.js'
import { benchStartup } from './startup.js'

const print = (line: string) => void process.stdout.write(`${line}\n`)

benchStartup(print)
await benchPolicyDecision(print)
await benchMpc(print)
await benchHandlerThroughput(print)
