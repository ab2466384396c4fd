import { Action, canonicalJson, type RequestKind } from '../protocol/index.js'
import { appendAudit } from './audit.js'
import type { SqlSession } from './sql/types.js'
import { readFigures, reserve, type VelocityFigures, type VelocitySeries } from './velocity.js'

/** What the store records about a request besides the decision itself. */
export interface RequestFacts {
  readonly requestId: string
  readonly payloadDigest: string
  readonly kind: RequestKind
  readonly signerId: string | null
  /** Audit fields: txId, source, destination, asset, amount (strings) — never keys or the JWT. */
  readonly summary: Readonly<Record<string, string | null>>
  /** The validated payload, kept for `policy replay`. */
  readonly request: unknown
  readonly receivedAt: number
}

export interface HoldRequirement {
  readonly quorum: number
  readonly approvers: readonly string[]
  readonly ttlMs: number
}

export interface Verdict {
  readonly action: Action
  readonly reason: string | null
  readonly ruleId: string | null
  readonly policyVersion: string
  readonly policyDigest: string
  readonly trace: unknown
  /** Set when the request is held for a human quorum; `action` is then RETRY. */
  readonly hold?: HoldRequirement
}

/** Structurally the policy's `Vote`; declared here because the store may not import the policy. */
export interface RecordedVote {
  readonly approver: string
  readonly vote: 'approve' | 'reject'
  readonly reason?: string
  readonly at: Date
}

export type HoldState =
  | { readonly state: 'pending'; readonly approvals: number }
  | { readonly state: 'approved' }
  | { readonly state: 'rejected'; readonly reason: string }

export interface Decider {
  /** The velocity series the request falls in; their figures are read and then reserved on APPROVE. */
  readonly series: readonly VelocitySeries[]
  /** Decides from the figures before this request (aligned with `series`). Must not throw. */
  decide(figures: readonly VelocityFigures[]): Verdict
  resolveHold(hold: HoldRequirement, heldAt: Date, votes: readonly RecordedVote[], now: Date): HoldState
}

/**
 * - `decided`: a new request, decided now and recorded.
 * - `repeated`: the same request again: the recorded answer (RETRY while a hold is pending).
 * - `resolved`: a held request whose quorum, veto or expiry settled it now.
 * - `altered`: a known `requestId` with a different payload: always REJECT, raised as an alert.
 */
export interface Settlement {
  readonly outcome: 'decided' | 'repeated' | 'resolved' | 'altered'
  readonly action: Action
  readonly reason: string | null
  readonly ruleId: string | null
  readonly policyVersion: string
}

interface DecisionRow extends Record<string, unknown> {
  request_id: string
  payload_digest: string
  kind: string
  status: 'final' | 'held'
  action: Action
  reason: string | null
  rule_id: string | null
  policy_version: string
  policy_digest: string
  signer_id: string | null
  request_json: string
  trace_json: string
  hold_json: string | null
  decided_at: number
  updated_at: number
}

interface StoredHold extends HoldRequirement {
  readonly series: readonly VelocitySeries[]
}

export const ALTERED_REPLAY_REASON =
  'requestId was already decided for a different payload (replay with altered parameters)'

/**
 * The idempotent decide-and-record step, run inside one exclusive transaction so that concurrent
 * deliveries of one request, in any process or replica, produce exactly one decision and velocity limits
 * are never passed together.
 */
export async function settle(
  session: SqlSession,
  facts: RequestFacts,
  decider: Decider,
  now: number,
): Promise<Settlement> {
  const existing = await session.one<DecisionRow>('SELECT * FROM decisions WHERE request_id = ?', [
    facts.requestId,
  ])
  if (existing === undefined) return decideNew(session, facts, decider, now)
  if (existing.payload_digest !== facts.payloadDigest)
    return recordAlteredReplay(session, facts, existing, now)
  if (existing.status === 'held') return resolveHeld(session, existing, decider, now)
  return answerFrom(existing, 'repeated')
}

function answerFrom(row: DecisionRow, outcome: Settlement['outcome']): Settlement {
  return {
    outcome,
    action: row.action,
    reason: row.reason,
    ruleId: row.rule_id,
    policyVersion: row.policy_version,
  }
}

async function decideNew(
  session: SqlSession,
  facts: RequestFacts,
  decider: Decider,
  now: number,
): Promise<Settlement> {
  const figures: VelocityFigures[] = []
  for (const series of decider.series) figures.push(await readFigures(session, series, now))
  const verdict = decider.decide(figures)
  const held = verdict.hold !== undefined
  if (verdict.action === Action.approve) await reserve(session, facts.requestId, decider.series, now)
  const hold: StoredHold | null = verdict.hold ? { ...verdict.hold, series: decider.series } : null
  await session.run(
    `INSERT INTO decisions (request_id, payload_digest, kind, status, action, reason, rule_id, policy_version,
       policy_digest, signer_id, request_json, trace_json, hold_json, decided_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      facts.requestId,
      facts.payloadDigest,
      facts.kind,
      held ? 'held' : 'final',
      verdict.action,
      verdict.reason,
      verdict.ruleId,
      verdict.policyVersion,
      verdict.policyDigest,
      facts.signerId,
      canonicalJson(facts.request),
      JSON.stringify({
        trace: verdict.trace,
        // The figures the policy saw, kept with their series so `policy replay` can show them to a candidate.
        velocity: decider.series.map((series, index) => ({
          windowId: series.windowId,
          groupKey: series.groupKey,
          ...figures[index]!,
        })),
      }),
      hold ? JSON.stringify(hold) : null,
      now,
      now,
    ],
  )
  await appendAudit(
    session,
    'decision',
    facts.requestId,
    {
      kind: facts.kind,
      signerId: facts.signerId,
      ...facts.summary,
      action: verdict.action,
      held,
      reason: verdict.reason,
      ruleId: verdict.ruleId,
      policyVersion: verdict.policyVersion,
      policyDigest: verdict.policyDigest,
      payloadDigest: facts.payloadDigest,
      receivedAt: facts.receivedAt,
      latencyMs: now - facts.receivedAt,
    },
    now,
  )
  return {
    outcome: 'decided',
    action: verdict.action,
    reason: verdict.reason,
    ruleId: verdict.ruleId,
    policyVersion: verdict.policyVersion,
  }
}

async function recordAlteredReplay(
  session: SqlSession,
  facts: RequestFacts,
  existing: DecisionRow,
  now: number,
): Promise<Settlement> {
  await appendAudit(
    session,
    'replay-altered',
    facts.requestId,
    {
      kind: facts.kind,
      signerId: facts.signerId,
      ...facts.summary,
      action: Action.reject,
      reason: ALTERED_REPLAY_REASON,
      recordedPayloadDigest: existing.payload_digest,
      payloadDigest: facts.payloadDigest,
    },
    now,
  )
  return {
    outcome: 'altered',
    action: Action.reject,
    reason: ALTERED_REPLAY_REASON,
    ruleId: null,
    policyVersion: existing.policy_version,
  }
}

export async function readVotes(session: SqlSession, requestId: string): Promise<RecordedVote[]> {
  const rows = await session.all<{
    approver: string
    vote: 'approve' | 'reject'
    reason: string | null
    voted_at: number
  }>(
    'SELECT approver, vote, reason, voted_at FROM approval_votes WHERE request_id = ? ORDER BY voted_at, approver',
    [requestId],
  )
  return rows.map((row) => ({
    approver: row.approver,
    vote: row.vote,
    ...(row.reason !== null ? { reason: row.reason } : {}),
    at: new Date(Number(row.voted_at)),
  }))
}

async function resolveHeld(
  session: SqlSession,
  row: DecisionRow,
  decider: Decider,
  now: number,
): Promise<Settlement> {
  const hold = JSON.parse(row.hold_json!) as StoredHold
  const votes = await readVotes(session, row.request_id)
  const state = decider.resolveHold(hold, new Date(Number(row.decided_at)), votes, new Date(now))
  if (state.state === 'pending') return answerFrom(row, 'repeated')
  const action = state.state === 'approved' ? Action.approve : Action.reject
  const reason =
    state.state === 'approved'
      ? `approved by quorum (${hold.quorum} of ${hold.approvers.join(', ')})`
      : state.reason
  if (action === Action.approve) await reserve(session, row.request_id, hold.series, now)
  await session.run(
    `UPDATE decisions SET status = 'final', action = ?, reason = ?, updated_at = ? WHERE request_id = ?`,
    [action, reason, now, row.request_id],
  )
  await appendAudit(
    session,
    'hold-resolved',
    row.request_id,
    {
      kind: row.kind,
      signerId: row.signer_id,
      action,
      reason,
      ruleId: row.rule_id,
      policyVersion: row.policy_version,
      votes: votes.map((vote) => ({ approver: vote.approver, vote: vote.vote })),
    },
    now,
  )
  return { outcome: 'resolved', action, reason, ruleId: row.rule_id, policyVersion: row.policy_version }
}
