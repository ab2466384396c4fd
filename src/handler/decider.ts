import { Action, isActionAllowed, type RequestKind } from '../protocol/index.js'
import { prepareDecision, resolveHold, type CompiledPolicy, type PolicyInput } from '../policy/index.js'
import type { Planner, Verdict } from '../storage/index.js'
import { planSettlement, type DecisionRules } from './settle-plan.js'

function plannerOf(series: Planner['series'], rules: DecisionRules): Planner {
  return { series, plan: (state) => planSettlement(state, rules) }
}

/**
 * Adapts the pure policy to the store's settle step. The policy reads velocity figures that the store read
 * under the locks of their windows, so what it decides and what the store reserves are one atomic step.
 */
export function policyPlanner(policy: CompiledPolicy, input: PolicyInput): Planner {
  const prepared = prepareDecision(policy, input)
  return plannerOf(prepared.probes, {
    decide(figures) {
      const decision = prepared.decide(figures)
      return enforceKind(input.kind, {
        action: decision.action,
        reason: decision.reason,
        ruleId: decision.ruleId,
        policyVersion: policy.version,
        policyDigest: policy.digest,
        trace: decision.trace,
        ...(decision.require ? { hold: decision.require } : {}),
      })
    },
    resolveHold,
  })
}

/** A planner that rejects without consulting the policy: a request the handler cannot read or evaluate. */
export function rejectingPlanner(
  reason: string,
  policy: Pick<CompiledPolicy, 'version' | 'digest'>,
): Planner {
  return plannerOf([], {
    decide: () => ({
      action: Action.reject,
      reason,
      ruleId: null,
      policyVersion: policy.version,
      policyDigest: policy.digest,
      trace: { error: reason },
    }),
    resolveHold: () => ({ state: 'rejected', reason }),
  })
}

/** Last line of defence: IGNORE is never sent for a signing request, whatever the policy said. */
function enforceKind(kind: RequestKind, verdict: Verdict): Verdict {
  if (isActionAllowed(kind, verdict.action)) return verdict
  return {
    ...verdict,
    action: Action.reject,
    reason: `policy answered ${verdict.action}, which a signing request cannot take; rejected instead (rule ${verdict.ruleId ?? 'default'})`,
  }
}
