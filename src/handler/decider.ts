import { Action, isActionAllowed, type RequestKind } from '../protocol/index.js'
import { prepareDecision, resolveHold, type CompiledPolicy, type PolicyInput } from '../policy/index.js'
import type { Decider, HoldState, Verdict } from '../store/index.js'

/**
 * Adapts the pure policy to the store's decide-and-record step. The policy reads velocity figures that
 * the store read under its write lock, so what it decides and what the store reserves are one atomic step.
 */
export function policyDecider(policy: CompiledPolicy, input: PolicyInput): Decider {
  const prepared = prepareDecision(policy, input)
  return {
    series: prepared.probes,
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
    resolveHold: (hold, heldAt, votes, now): HoldState => resolveHold(hold, heldAt, votes, now),
  }
}

/** A decider that rejects without consulting the policy: a request the handler cannot read or evaluate. */
export function rejectingDecider(
  reason: string,
  policy: Pick<CompiledPolicy, 'version' | 'digest'>,
): Decider {
  return {
    series: [],
    decide: () => ({
      action: Action.reject,
      reason,
      ruleId: null,
      policyVersion: policy.version,
      policyDigest: policy.digest,
      trace: { error: reason },
    }),
    resolveHold: () => ({ state: 'rejected', reason }),
  }
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
