import { Action, type RequestKind } from '../protocol/index.js'
import { chainEvents, insertAuditEntries, readChainHead, type AuditEvent } from './audit.js'
import type { SqlSession } from './sql/types.js'
import { Failed } from './batcher.js'
import { insertRows } from './sql/insert-rows.js'
import {
  readFiguresOf,
  writeReservations,
  type Reservation,
  type VelocityFigures,
  type VelocitySeries,
} from './velocity.js'

/** What the store records about a request besides the decision itself. */
export interface RequestFacts {
  readonly requestId: string
  readonly payloadDigest: string
  readonly kind: RequestKind
  readonly signerId: string | null
  /** Audit fields: txId, source, destination, asset, amount (strings) — never keys or the JWT. */
  readonly summary: Readonly<Record<string, string | null>>
  /** The payload as canonical JSON (the text `payloadDigest` is the SHA-256 of), kept for `policy replay`. */
  readonly requestJson: string
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

export interface SettleJob {
  readonly facts: RequestFacts
  readonly decider: Decider
}

const DECISION_COLUMNS = [
  'request_id',
  'payload_digest',
  'kind',
  'status',
  'action',
  'reason',
  'rule_id',
  'policy_version',
  'policy_digest',
  'signer_id',
  'request_json',
  'trace_json',
  'hold_json',
  'decided_at',
  'updated_at',
] as const

/**
 * The idempotent decide-and-record step for a batch of requests, inside one exclusive transaction, so that
 * concurrent deliveries of one request, in any process or replica, produce exactly one decision and
 * velocity limits are never passed together. The batch is read with one query per table, decided in
 * order in memory (each decision sees the approvals before it), and written with one statement per table:
 * a handful of round trips per batch, not per request, while the writer lock is held.
 */
export async function settleBatch(
  session: SqlSession,
  jobs: readonly SettleJob[],
  now: number,
): Promise<(Settlement | Failed)[]> {
  const batch = new BatchState(now)
  await batch.load(session, jobs)
  const settlements: (Settlement | Failed)[] = []
  for (const job of jobs) {
    try {
      settlements.push(await batch.settle(session, job))
    } catch (error) {
      // A decider that throws fails its own request (answered RETRY), never the batch it shares.
      if (!(error instanceof DeciderFailed)) throw error
      settlements.push(new Failed(error.cause))
    }
  }
  await batch.write(session)
  return settlements
}

class DeciderFailed extends Error {}

/** Calls into the decider before any state of the batch changes, so a throw leaves nothing half done. */
function consult<T>(call: () => T): T {
  try {
    return call()
  } catch (error) {
    throw new DeciderFailed('decider failed', { cause: error })
  }
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

function seriesKey(series: VelocitySeries): string {
  return JSON.stringify([series.windowId, series.groupKey, series.windowMs])
}

/** What one batch has read and decided so far; written at the end in one statement per table. */
class BatchState {
  private readonly decisions = new Map<string, DecisionRow>()
  private readonly figures = new Map<string, VelocityFigures>()
  private readonly newDecisions: DecisionRow[] = []
  private readonly resolved: DecisionRow[] = []
  private readonly reservations: Reservation[] = []
  private readonly events: AuditEvent[] = []

  constructor(private readonly now: number) {}

  async load(session: SqlSession, jobs: readonly SettleJob[]): Promise<void> {
    const ids = [...new Set(jobs.map((job) => job.facts.requestId))]
    const rows = await session.all<DecisionRow>(
      `SELECT * FROM decisions WHERE request_id IN (${ids.map(() => '?').join(', ')})`,
      ids,
    )
    for (const row of rows) this.decisions.set(row.request_id, row)
    const series = new Map<string, VelocitySeries>()
    for (const job of jobs) {
      if (this.decisions.has(job.facts.requestId)) continue
      for (const item of job.decider.series) series.set(seriesKey(item), item)
    }
    const figures = await readFiguresOf(session, [...series.values()], this.now)
    ;[...series.keys()].forEach((key, index) => this.figures.set(key, figures[index]!))
  }

  async settle(session: SqlSession, { facts, decider }: SettleJob): Promise<Settlement> {
    const existing = this.decisions.get(facts.requestId)
    if (existing === undefined) return this.decideNew(facts, decider)
    if (existing.payload_digest !== facts.payloadDigest) return this.recordAlteredReplay(facts, existing)
    if (existing.status === 'held') return this.resolveHeld(session, existing, decider)
    return answerFrom(existing, 'repeated')
  }

  async write(session: SqlSession): Promise<void> {
    await writeReservations(session, this.reservations, this.now)
    await insertRows(
      session,
      'decisions',
      DECISION_COLUMNS,
      this.newDecisions.map((row) => DECISION_COLUMNS.map((column) => row[column])),
    )
    for (const row of this.resolved) {
      await session.run(
        `UPDATE decisions SET status = 'final', action = ?, reason = ?, updated_at = ? WHERE request_id = ?`,
        [row.action, row.reason, row.updated_at, row.request_id],
      )
    }
    if (this.events.length > 0)
      await insertAuditEntries(session, chainEvents(await readChainHead(session), this.events))
  }

  private audit(event: AuditEvent['event'], requestId: string, body: Record<string, unknown>): void {
    this.events.push({ event, requestId, at: this.now, body })
  }

  /** Counts an approval in its series, for the decisions after it in this batch and in the database. */
  private reserve(requestId: string, series: readonly VelocitySeries[]): void {
    for (const item of series) {
      this.reservations.push({ requestId, series: item })
      const key = seriesKey(item)
      const figures = this.figures.get(key) ?? { sumUsdCents: 0, count: 0 }
      this.figures.set(key, {
        sumUsdCents: figures.sumUsdCents + item.amountUsdCents,
        count: figures.count + 1,
      })
    }
  }

  private decideNew(facts: RequestFacts, decider: Decider): Settlement {
    const figures = decider.series.map(
      (item) => this.figures.get(seriesKey(item)) ?? { sumUsdCents: 0, count: 0 },
    )
    const verdict = consult(() => decider.decide(figures))
    if (verdict.action === Action.approve) this.reserve(facts.requestId, decider.series)
    const hold: StoredHold | null = verdict.hold ? { ...verdict.hold, series: decider.series } : null
    const row: DecisionRow = {
      request_id: facts.requestId,
      payload_digest: facts.payloadDigest,
      kind: facts.kind,
      status: hold ? 'held' : 'final',
      action: verdict.action,
      reason: verdict.reason,
      rule_id: verdict.ruleId,
      policy_version: verdict.policyVersion,
      policy_digest: verdict.policyDigest,
      signer_id: facts.signerId,
      request_json: facts.requestJson,
      trace_json: JSON.stringify({
        trace: verdict.trace,
        // The figures the policy saw, kept with their series so `policy replay` can show them to a candidate.
        velocity: decider.series.map((item, index) => ({
          windowId: item.windowId,
          groupKey: item.groupKey,
          ...figures[index]!,
        })),
      }),
      hold_json: hold ? JSON.stringify(hold) : null,
      decided_at: this.now,
      updated_at: this.now,
    }
    this.decisions.set(facts.requestId, row)
    this.newDecisions.push(row)
    this.audit('decision', facts.requestId, {
      kind: facts.kind,
      signerId: facts.signerId,
      ...facts.summary,
      action: verdict.action,
      held: hold !== null,
      reason: verdict.reason,
      ruleId: verdict.ruleId,
      policyVersion: verdict.policyVersion,
      policyDigest: verdict.policyDigest,
      payloadDigest: facts.payloadDigest,
      receivedAt: facts.receivedAt,
      latencyMs: this.now - facts.receivedAt,
    })
    return answerFrom(row, 'decided')
  }

  private recordAlteredReplay(facts: RequestFacts, existing: DecisionRow): Settlement {
    this.audit('replay-altered', facts.requestId, {
      kind: facts.kind,
      signerId: facts.signerId,
      ...facts.summary,
      action: Action.reject,
      reason: ALTERED_REPLAY_REASON,
      recordedPayloadDigest: existing.payload_digest,
      payloadDigest: facts.payloadDigest,
    })
    return {
      outcome: 'altered',
      action: Action.reject,
      reason: ALTERED_REPLAY_REASON,
      ruleId: null,
      policyVersion: existing.policy_version,
    }
  }

  private async resolveHeld(session: SqlSession, row: DecisionRow, decider: Decider): Promise<Settlement> {
    const hold = JSON.parse(row.hold_json!) as StoredHold
    const votes = await readVotes(session, row.request_id)
    const state = consult(() =>
      decider.resolveHold(hold, new Date(Number(row.decided_at)), votes, new Date(this.now)),
    )
    if (state.state === 'pending') return answerFrom(row, 'repeated')
    const approved = state.state === 'approved'
    if (approved) this.reserve(row.request_id, hold.series)
    const resolved: DecisionRow = {
      ...row,
      status: 'final',
      action: approved ? Action.approve : Action.reject,
      reason: approved ? `approved by quorum (${hold.quorum} of ${hold.approvers.join(', ')})` : state.reason,
      updated_at: this.now,
    }
    this.decisions.set(row.request_id, resolved)
    this.resolved.push(resolved)
    this.audit('hold-resolved', row.request_id, {
      kind: row.kind,
      signerId: row.signer_id,
      action: resolved.action,
      reason: resolved.reason,
      ruleId: row.rule_id,
      policyVersion: row.policy_version,
      votes: votes.map((vote) => ({ approver: vote.approver, vote: vote.vote })),
    })
    return answerFrom(resolved, 'resolved')
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
