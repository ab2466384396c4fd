import {
  CONFORMANCE_CHECKS,
  CheckStatus,
  NO_BASELINE,
  sendBaseline,
  type CheckVerdict,
} from './conformance-checks.js'
import { createProber, type ConformanceTarget } from './prober.js'

export interface CheckResult extends CheckVerdict {
  readonly id: string
  readonly title: string
}

export interface ConformanceReport {
  readonly results: readonly CheckResult[]
  /** False when any check failed; skipped checks do not fail a run. */
  readonly passed: boolean
}

/** Runs every check, one request at a time, against a live handler. */
export async function runConformance(target: ConformanceTarget): Promise<ConformanceReport> {
  const prober = createProber(target)
  const baseline = await sendBaseline(prober)
  const results: CheckResult[] = []
  for (const check of CONFORMANCE_CHECKS) {
    const verdict =
      check.needsBaseline === true && !baseline.usable ? NO_BASELINE : await check.run(prober, baseline)
    results.push({ id: check.id, title: check.title, ...verdict })
  }
  return { results, passed: results.every((result) => result.status !== CheckStatus.fail) }
}
