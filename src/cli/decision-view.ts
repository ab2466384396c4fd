import { describeRequest, requestView } from '../handler/index.js'
import { resolveHold } from '../policy/index.js'
import type { DecisionDetail, HeldRequest, RecordedVote } from '../storage/index.js'

export function describeVotes(votes: readonly RecordedVote[]): string {
  return votes.map((vote) => `${vote.approver}:${vote.vote}`).join(' ') || 'none'
}

const voteJson = (vote: RecordedVote) => ({
  approver: vote.approver,
  vote: vote.vote,
  reason: vote.reason ?? null,
  at: vote.at.toISOString(),
})

/** `decisions list|show --json`: one object per recorded decision. */
export function decisionJson(decision: DecisionDetail, withTrace: boolean) {
  return {
    requestId: decision.requestId,
    route: decision.route,
    kind: decision.kind,
    status: decision.status,
    action: decision.action,
    reason: decision.reason,
    ruleId: decision.ruleId,
    policyVersion: decision.policyVersion,
    policyDigest: decision.policyDigest,
    signerId: decision.signerId,
    ...requestView(decision.route, decision.request),
    decidedAt: decision.decidedAt.toISOString(),
    updatedAt: decision.updatedAt.toISOString(),
    hold: decision.hold,
    votes: decision.votes.map(voteJson),
    ...(withTrace ? { trace: decision.trace } : {}),
  }
}

/** `decisions list`: one line per decision. */
export function describeDecision(decision: DecisionDetail): string {
  const view = requestView(decision.route, decision.request)
  const held = decision.status === 'held' ? ' (held)' : ''
  return `${decision.decidedAt.toISOString()}  ${decision.requestId}  ${decision.kind}  ${decision.action}${held}  ${describeRequest(view)}  rule=${decision.ruleId ?? '-'}  reason: ${decision.reason ?? '-'}`
}

/** `approvals list|show --json`: a held request with its state now. */
export function heldJson(held: HeldRequest, now: Date) {
  const state = resolveHold(held.hold, held.heldAt, held.votes, now)
  return {
    requestId: held.requestId,
    route: held.route,
    kind: held.kind,
    ...requestView(held.route, held.request),
    ruleId: held.ruleId,
    reason: held.reason,
    quorum: held.hold.quorum,
    approvers: held.hold.approvers,
    votes: held.votes.map(voteJson),
    state: state.state,
    heldAt: held.heldAt.toISOString(),
    expiresAt: new Date(held.heldAt.getTime() + held.hold.ttlMs).toISOString(),
  }
}

/** `approvals list`: one line per held request, naming everything that tells two holds apart. */
export function describeHeld(held: HeldRequest, now: Date): string {
  const view = heldJson(held, now)
  return `${held.requestId}  ${held.kind}  ${describeRequest(requestView(held.route, held.request))}  rule=${held.ruleId ?? '-'}  reason: ${held.reason ?? '-'}  needs ${view.quorum} of [${view.approvers.join(', ')}]  votes: ${describeVotes(held.votes)}  state: ${view.state}  expires ${view.expiresAt}`
}
