import { Action } from '../protocol/index.js'
import type { HoldResolution } from '../policy/index.js'
import type {
  HoldRequirement,
  RecordedState,
  RecordedVote,
  SettlePlan,
  SettleState,
  VelocityFigures,
  Verdict,
} from '../storage/index.js'
import { verifiedVotes } from './verified-votes.js'

export const ALTERED_REPLAY_REASON =
  'requestId was already decided for a different payload (replay with altered parameters)'

export const TAMPERED_DECISION_REASON =
  'the recorded decision for this requestId does not match the audit entry that recorded it (altered in the database): rejected'

/** What the policy says about one request: a verdict for a new one, and how its hold resolves. */
export interface DecisionRules {
  /** Decides from the velocity figures before this request (aligned with the planner's series). */
  decide(figures: readonly VelocityFigures[]): Verdict
  resolveHold(hold: HoldRequirement, heldAt: Date, votes: readonly RecordedVote[], now: Date): HoldResolution
}

/**
 * The decision rules of settling a request, pure: from what the store has recorded and the new request,
 * the plan the store executes in one transaction.
 * - A new request is decided by the policy. An approval is counted in its velocity windows; so is a hold,
 *   from the moment it is created, so that approvals while humans decide cannot take its room and a
 *   quorum can never pass a limit (a hold the humans reject or let expire gives its room back).
 * - A recorded decision that no longer matches its audit entry is answered REJECT and raised as an alert:
 *   an edited row is never served.
 * - The same requestId with another payload is answered REJECT and raised as an alert.
 * - A held request is resolved by its votes (quorum, veto, expiry); until then the recorded RETRY is repeated.
 */
export function planSettlement(state: SettleState, rules: DecisionRules): SettlePlan {
  const { facts, recorded } = state
  if (recorded === undefined) {
    const verdict = rules.decide(state.figures)
    return {
      type: 'record',
      verdict,
      reserve: verdict.action === Action.approve || verdict.hold !== undefined,
      audit: {
        kind: facts.kind,
        signerId: facts.signerId,
        ...facts.summary,
        ruleId: verdict.ruleId,
        policyVersion: verdict.policyVersion,
        policyDigest: verdict.policyDigest,
        receivedAt: facts.receivedAt,
        latencyMs: state.now.getTime() - facts.receivedAt,
      },
    }
  }
  if (!recorded.intact) return alert(state, recorded, 'tampered', TAMPERED_DECISION_REASON)
  if (recorded.payloadDigest !== facts.payloadDigest)
    return alert(state, recorded, 'altered', ALTERED_REPLAY_REASON)
  if (recorded.status === 'held' && recorded.hold !== null) return planHold(state, recorded, rules)
  return { type: 'repeat' }
}

function alert(
  { facts }: SettleState,
  recorded: RecordedState,
  outcome: 'altered' | 'tampered',
  reason: string,
): SettlePlan {
  return {
    type: 'alert',
    outcome,
    answer: { action: Action.reject, reason, ruleId: null, policyVersion: recorded.policyVersion },
    audit: {
      event: outcome === 'altered' ? 'replay-altered' : 'integrity-alert',
      body: {
        kind: facts.kind,
        signerId: facts.signerId,
        ...facts.summary,
        action: Action.reject,
        reason,
        recordedPayloadDigest: recorded.payloadDigest,
        payloadDigest: facts.payloadDigest,
      },
    },
  }
}

function planHold(state: SettleState, recorded: RecordedState, rules: DecisionRules): SettlePlan {
  const hold = recorded.hold!
  // Only votes whose signatures verify count: a forged or edited vote row never moves money.
  const { counted, uncounted } = verifiedVotes(recorded)
  const resolution = rules.resolveHold(hold, recorded.heldAt, counted, state.now)
  if (resolution.state === 'pending') return { type: 'repeat' }
  const approved = resolution.state === 'approved'
  return {
    type: 'resolve',
    action: approved ? Action.approve : Action.reject,
    reason: approved
      ? `approved by ${approversWho('approve', counted)} (quorum ${hold.quorum} of ${hold.approvers.join(', ')})`
      : resolution.reason,
    release: !approved,
    audit: {
      kind: recorded.kind,
      ruleId: recorded.ruleId,
      policyVersion: recorded.policyVersion,
      // Each counted vote with its signature, so the entry alone proves who approved (or vetoed).
      votes: counted.map((vote) => ({
        approver: vote.approver,
        vote: vote.vote,
        reason: vote.reason ?? null,
        signedAt: vote.signedAt,
        signature: vote.signature,
      })),
      ...(uncounted.length > 0 ? { uncountedVotes: uncounted } : {}),
    },
  }
}

function approversWho(decision: RecordedVote['vote'], votes: readonly RecordedVote[]): string {
  return votes
    .filter((vote) => vote.vote === decision)
    .map((vote) => vote.approver)
    .join(', ')
}
