import { resolveHold } from '../../policy/index.js'
import type { DecisionDetail, HeldRequest, RecordedVote } from '../../storage/index.js'
import { formatUsd, requestView, type RequestView } from '../request-view.js'

/** What a console page shows of a request: the request view plus who decided what, and when. */
export interface RequestCard {
  readonly route: string
  readonly requestId: string
  readonly kind: string
  readonly view: RequestView
  readonly usd: string
  /** Whether the destination is one of the workspace's whitelisted addresses or a one-time address. */
  readonly destinationKind: string
  readonly ruleId: string
  readonly reason: string
  readonly votes: readonly { approver: string; vote: string; reason: string; at: string; by: string }[]
}

export interface HoldCard extends RequestCard {
  readonly quorum: number
  readonly approvers: readonly string[]
  readonly state: string
  readonly expiresAt: string
  readonly timeLeft: string
  /** Whether the signed-in approver may vote on it (listed by its rule, and has not voted yet). */
  readonly mayVote: boolean
}

function destinationKind(request: unknown): string {
  const type = (request as { destType?: unknown } | null)?.destType
  if (type === 'ONE_TIME_ADDRESS') return 'one-time address (not whitelisted)'
  if (typeof type !== 'string') return 'unknown'
  return `whitelisted (${type})`
}

function votesOf(votes: readonly RecordedVote[]) {
  return votes.map((vote) => ({
    approver: vote.approver,
    vote: vote.vote,
    reason: vote.reason ?? '',
    at: vote.at.toISOString(),
    by: vote.credentialId === null ? 'signed key (CLI)' : 'passkey (console)',
  }))
}

function timeLeft(msLeft: number): string {
  if (msLeft <= 0) return 'expired'
  const minutes = Math.floor(msLeft / 60_000)
  return minutes >= 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes} min`
}

function cardOf(
  base: Pick<DecisionDetail, 'route' | 'requestId' | 'kind' | 'request' | 'ruleId' | 'reason' | 'votes'>,
): RequestCard {
  const view = requestView(base.route, base.request)
  return {
    route: base.route,
    requestId: base.requestId,
    kind: base.kind,
    view,
    usd: formatUsd(view.amountUsd),
    destinationKind: destinationKind(base.request),
    ruleId: base.ruleId ?? '-',
    reason: base.reason ?? '-',
    votes: votesOf(base.votes),
  }
}

export function holdCard(held: HeldRequest, principal: string, now: Date): HoldCard {
  const expires = held.heldAt.getTime() + held.hold.ttlMs
  return {
    ...cardOf(held),
    quorum: held.hold.quorum,
    approvers: held.hold.approvers,
    state: resolveHold(held.hold, held.heldAt, held.votes, now).state,
    expiresAt: new Date(expires).toISOString(),
    timeLeft: timeLeft(expires - now.getTime()),
    mayVote:
      held.hold.approvers.includes(principal) && !held.votes.some((vote) => vote.approver === principal),
  }
}

export function decisionCard(decision: DecisionDetail) {
  return {
    ...cardOf(decision),
    action: decision.action,
    status: decision.status,
    decidedAt: decision.decidedAt.toISOString(),
    policyVersion: decision.policyVersion,
    trace: JSON.stringify(decision.trace, null, 2),
  }
}
