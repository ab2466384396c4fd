import {
  CONFORMANCE_CHECKS,
  CheckStatus,
  NO_BASELINE,
  notInMode,
  sendBaseline,
  type CheckVerdict,
} from './conformance-checks.js'
import type { AuthMode } from '../protocol/index.js'
import { createProber, type ConformanceTarget } from './prober.js'

export interface CheckResult extends CheckVerdict {
  readonly id: string
  readonly title: string
}

export interface ConformanceReport {
  readonly mode: AuthMode
  readonly results: readonly CheckResult[]
  /** The requestIds sent: the handler may have recorded, audited and reserved velocity for each. */
  readonly requestIds: readonly string[]
  /** False when any check failed; skipped checks do not fail a run. */
  readonly passed: boolean
}

/**
 * Runs every check, one request at a time, against a live handler. A check that means nothing in the
 * target's mode is reported SKIP with the reason, so the table lists the same checks in both modes.
 */
export async function runConformance(
  target: ConformanceTarget,
  /** Called once the target is known to be usable, before the first request (to warn the operator). */
  beforeFirstRequest: () => void = () => undefined,
): Promise<ConformanceReport> {
  const prober = createProber(target)
  beforeFirstRequest()
  const baseline = await sendBaseline(prober)
  const results: CheckResult[] = []
  for (const check of CONFORMANCE_CHECKS) {
    const verdict =
      check.only !== undefined && check.only.mode !== prober.mode
        ? notInMode(check.only)
        : check.needsBaseline === true && !baseline.usable
          ? NO_BASELINE
          : await check.run(prober, baseline)
    results.push({ id: check.id, title: check.title, ...verdict })
  }
  return {
    mode: prober.mode,
    results,
    requestIds: [...prober.requestIds],
    passed: results.every((result) => result.status !== CheckStatus.fail),
  }
}
