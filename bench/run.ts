/**
 * `npm run bench`: every benchmark, in one run. Figures and ratios, never pass/fail; each module prints
 * its own lines.
 */
import { benchPolicyDecision } from './policy-decision.js'

const print = (line: string) => void process.stdout.write(`${line}\n`)

await benchPolicyDecision(print)
