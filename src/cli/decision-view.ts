import { amountUsdCents, resolveHold } from '../policy/index.js'
import { parseTxRequest } from '../protocol/index.js'
import type { DecisionDetail, HeldRequest, RecordedVote } from '../storage/index.js'

/**
 * How the operator commands show a recorded request: the same fields in the text line and in `--json`, so
 * two different requests never print identical rows. `approvals list|show` use `heldView`/`describeHeld`.
 */
export interface RequestView {
  readonly txId: string | null
  readonly operation: string | null
  readonly source: string | null
  readonly destination: string | null
  readonly asset: string | null
  readonly amount: string | null
  /** The USD amount the policy decided on (the destinations' `amountUSD` in cents); null when unreadable. */
  readonly amountUsd: number | null
  /** Config-change requests: their type. */
  readonly type: string | null
}

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null)

function usdOf(request: unknown): number | null {
  try {
    return amountUsdCents(parseTxRequest(request)) / 100
  } catch {
    return null
  }
}

/** The request's identifying fields, read leniently: a malformed request is shown too. */
export function requestView(route: string, request: unknown): RequestView {
  const payload = (request ?? {}) as Record<string, unknown>
  if (route === 'config') {
    return {
      txId: null,
      operation: null,
      source: null,
      destination: null,
      asset: null,
      amount: null,
      amountUsd: null,
      type: text(payload.type),
    }
  }
  const destination = text(payload.destAddress) || text(payload.destId)
  return {
    txId: text(payload.txId),
    operation: text(payload.operation),
    source:
      text(payload.sourceType) === null
        ? null
        : `${text(payload.sourceType)}:${text(payload.sourceId) ?? ''}`,
    destination: destination === null ? null : `${text(payload.destType) ?? '?'}:${destination}`,
    asset: text(payload.asset),
    amount: text(payload.amountStr),
    amountUsd: usdOf(request),
    type: null,
  }
}

export function formatUsd(amountUsd: number | null): string {
  return amountUsd === null ? '? USD' : `${amountUsd.toFixed(2)} USD`
}

/** One phrase for what the request asks: `0.5 ETH (1234.00 USD) from VAULT:0 to ONE_TIME:0xabc`. */
export function describeRequest(view: RequestView): string {
  if (view.type !== null) return `config change ${view.type}`
  return `${view.amount ?? '?'} ${view.asset ?? '?'} (${formatUsd(view.amountUsd)}) from ${view.source ?? '?'} to ${view.destination ?? '?'}`
}

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
