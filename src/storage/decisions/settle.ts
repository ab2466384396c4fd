import type { Action } from '../../protocol/index.js'
import { readVotesOf } from './votes.js'
import { Failed } from '../batcher.js'
import { appendEvents, readEntriesByHash, type AuditEvent } from '../audit/index.js'
import { chunked } from '../database/index.js'
import { tables, type WriteSession } from '../database/index.js'
import { decisionKey, requestLock } from './identity.js'
import {
  readFigures,
  releaseReservations,
  velocityLocks,
  writeReservations,
  type Reservation,
  type VelocityFigures,
  type VelocitySeries,
} from '../velocity/index.js'
import { bindingOf, matchesAudit } from './integrity.js'
import type { Planner, RecordedState, RequestFacts, SettlePlan, SettleState, Settlement } from './plan.js'
import type { DecisionTables } from './schema.js'

type DecisionRow = DecisionTables['decisions']

export interface SettleJob {
  readonly facts: RequestFacts
  readonly planner: Planner
}

interface StoredHold {
  readonly quorum: number
  readonly approvers: readonly string[]
  readonly ttlMs: number
  readonly series: readonly VelocitySeries[]
}

function seriesKey(series: VelocitySeries): string {
  return JSON.stringify([series.windowId, series.groupKey, series.windowMs, series.bucketMs])
}

/**
 * The idempotent settle step for a batch of requests, in one transaction: lock the requests, read what is
 * recorded (decisions, their audit entries, votes), lock and read the velocity series, ask each job's
 * planner for a plan in order (each sees the plans before it), then write everything with one multi-row
 * statement per table: a few round trips per batch, not per request.
 */
export async function settleBatch(
  session: WriteSession,
  jobs: readonly SettleJob[],
  now: number,
): Promise<(Settlement | Failed)[]> {
  await session.lock(jobs.map(({ facts }) => requestLock(facts.route, facts.requestId)))
  const batch = new BatchState(session, now)
  await batch.load(jobs)
  const settlements = jobs.map((job) => {
    let plan: SettlePlan
    try {
      plan = job.planner.plan(batch.stateOf(job))
    } catch (error) {
      // A planner that throws fails its own request (answered RETRY), never the batch it shares.
      return new Failed(error)
    }
    return batch.apply(job, plan)
  })
  await batch.write()
  return settlements
}

/** What one batch has read and planned so far; written at the end. */
class BatchState {
  private readonly session: WriteSession
  private readonly now: number
  private readonly rows = new Map<string, DecisionRow>()
  private readonly states = new Map<string, RecordedState>()
  private readonly figures = new Map<string, VelocityFigures>()
  private readonly created: DecisionRow[] = []
  private readonly resolved: DecisionRow[] = []
  private readonly reservations: Reservation[] = []
  private readonly releases: { route: string; requestId: string }[] = []
  private readonly events: AuditEvent[] = []
  /** The row whose audit hash is that of `events[index]`. */
  private readonly recordedBy = new Map<number, DecisionRow>()

  constructor(session: WriteSession, now: number) {
    this.session = session
    this.now = now
  }

  async load(jobs: readonly SettleJob[]): Promise<void> {
    await this.loadDecisions(jobs)
    const rows = [...this.rows.values()]
    const entries = await readEntriesByHash(
      this.session.db,
      rows.map((row) => row.audit_hash),
    )
    const held = rows.filter((row) => row.status === 'held')
    const votes = await readVotesOf(
      this.session.db,
      held.map((row) => ({ route: row.route, requestId: row.request_id })),
    )
    for (const row of rows) {
      const key = decisionKey(row.route, row.request_id)
      this.states.set(key, toState(row, votes.get(key) ?? [], matchesAudit(row, entries.get(row.audit_hash))))
    }
    const series = new Map<string, VelocitySeries>()
    for (const job of jobs)
      if (!this.rows.has(decisionKey(job.facts.route, job.facts.requestId)))
        for (const item of job.planner.series) series.set(seriesKey(item), item)
    for (const row of held) for (const item of storedHold(row).series) series.set(seriesKey(item), item)
    const all = [...series.values()]
    await this.session.lock(velocityLocks(all))
    const figures = await readFigures(this.session.db, all, this.now)
    all.forEach((item, index) => this.figures.set(seriesKey(item), figures[index]!))
  }

  /** The recorded decisions of the batch's requests, one query per route, by primary key. */
  private async loadDecisions(jobs: readonly SettleJob[]): Promise<void> {
    const db = tables<DecisionTables>(this.session.db)
    const idsByRoute = new Map<string, Set<string>>()
    for (const { facts } of jobs)
      idsByRoute.set(facts.route, (idsByRoute.get(facts.route) ?? new Set()).add(facts.requestId))
    for (const [route, ids] of idsByRoute)
      for (const chunk of chunked([...ids], 1)) {
        const rows = await db
          .selectFrom('decisions')
          .selectAll()
          .where('route', '=', route)
          .where('request_id', 'in', chunk)
          .execute()
        for (const row of rows) this.rows.set(decisionKey(row.route, row.request_id), row)
      }
  }

  stateOf({ facts, planner }: SettleJob): SettleState {
    const recorded = this.states.get(decisionKey(facts.route, facts.requestId))
    return {
      facts,
      recorded,
      figures: recorded ? [] : this.figuresOf(planner.series),
      now: new Date(this.now),
    }
  }

  private figuresOf(series: readonly VelocitySeries[]): VelocityFigures[] {
    return series.map((item) => this.figures.get(seriesKey(item)) ?? { sumUsdCents: 0, count: 0 })
  }

  apply({ facts, planner }: SettleJob, plan: SettlePlan): Settlement {
    const key = decisionKey(facts.route, facts.requestId)
    const row = this.rows.get(key)
    switch (plan.type) {
      case 'repeat':
        if (row === undefined) throw new Error('a repeat plan needs a recorded decision')
        return { ...answerOf(row), outcome: 'repeated' }
      case 'alert':
        this.audit(plan.audit.event, facts.requestId, { route: facts.route, ...plan.audit.body })
        return { ...plan.answer, outcome: plan.outcome }
      case 'record':
        return this.record(facts, planner.series, plan)
      case 'resolve':
        if (row === undefined) throw new Error('a resolve plan needs a recorded decision')
        return this.resolve(row, plan)
    }
  }

  private record(
    facts: RequestFacts,
    series: readonly VelocitySeries[],
    plan: Extract<SettlePlan, { type: 'record' }>,
  ): Settlement {
    const { verdict } = plan
    const figures = this.figuresOf(series)
    if (plan.reserve) this.reserve(facts, series, 1)
    const row: DecisionRow = {
      route: facts.route,
      request_id: facts.requestId,
      payload_digest: facts.payloadDigest,
      kind: facts.kind,
      status: verdict.hold ? 'held' : 'final',
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
        velocity: series.map((item, index) => ({
          windowId: item.windowId,
          groupKey: item.groupKey,
          ...figures[index]!,
        })),
      }),
      hold_json: verdict.hold
        ? JSON.stringify({ ...verdict.hold, series: plan.reserve ? series : [] })
        : null,
      audit_hash: '',
      decided_at: this.now,
      updated_at: this.now,
    }
    this.track(row, true)
    this.audit('decision', facts.requestId, { ...plan.audit, ...bindingOf(row) }, row)
    return { ...answerOf(row), outcome: 'decided' }
  }

  private resolve(row: DecisionRow, plan: Extract<SettlePlan, { type: 'resolve' }>): Settlement {
    const resolved: DecisionRow = {
      ...row,
      status: 'final',
      action: plan.action,
      reason: plan.reason,
      updated_at: this.now,
    }
    if (plan.release) {
      this.releases.push({ route: row.route, requestId: row.request_id })
      this.reserve({ route: row.route, requestId: row.request_id }, storedHold(row).series, -1)
    }
    this.track(resolved, false)
    this.audit('hold-resolved', row.request_id, { ...plan.audit, ...bindingOf(resolved) }, resolved)
    return { ...answerOf(resolved), outcome: 'resolved' }
  }

  /** Makes `row` what later jobs of this batch see for its request. */
  private track(row: DecisionRow, created: boolean): void {
    const key = decisionKey(row.route, row.request_id)
    this.rows.set(key, row)
    this.states.set(key, toState(row, [], true))
    ;(created ? this.created : this.resolved).push(row)
  }

  /** Counts (or, with -1, uncounts) a request in its series, for the jobs after it and in the database. */
  private reserve(
    request: { route: string; requestId: string },
    series: readonly VelocitySeries[],
    sign: 1 | -1,
  ): void {
    for (const item of series) {
      if (sign === 1)
        this.reservations.push({ route: request.route, requestId: request.requestId, series: item })
      const key = seriesKey(item)
      const figures = this.figures.get(key) ?? { sumUsdCents: 0, count: 0 }
      this.figures.set(key, {
        sumUsdCents: figures.sumUsdCents + sign * item.amountUsdCents,
        count: figures.count + sign,
      })
    }
  }

  private audit(
    event: AuditEvent['event'],
    requestId: string,
    body: Record<string, unknown>,
    row?: DecisionRow,
  ): void {
    if (row) this.recordedBy.set(this.events.length, row)
    this.events.push({ event, requestId, at: this.now, body })
  }

  async write(): Promise<void> {
    const db = tables<DecisionTables>(this.session.db)
    await writeReservations(this.session.db, this.reservations, this.now)
    for (const { route, requestId } of this.releases)
      await releaseReservations(this.session.db, route, requestId, this.now)
    const entries = await appendEvents(this.session, this.events)
    // A request decided and resolved in one batch keeps the hash of its last entry.
    const hashes = new Map<DecisionRow, string>()
    entries.forEach((entry, index) => {
      const row = this.recordedBy.get(index)
      if (row) hashes.set(row, entry.hash)
    })
    const created = this.created.map((row) => ({ ...row, audit_hash: hashes.get(row)! }))
    for (const chunk of chunked(created, 17)) await db.insertInto('decisions').values(chunk).execute()
    for (const row of this.resolved) {
      await db
        .updateTable('decisions')
        .set({
          status: row.status,
          action: row.action,
          reason: row.reason,
          updated_at: row.updated_at,
          audit_hash: hashes.get(row)!,
        })
        .where('route', '=', row.route)
        .where('request_id', '=', row.request_id)
        .execute()
    }
  }
}

function storedHold(row: DecisionRow): StoredHold {
  return JSON.parse(row.hold_json ?? '{"quorum":0,"approvers":[],"ttlMs":0,"series":[]}') as StoredHold
}

function answerOf(row: DecisionRow) {
  return {
    action: row.action as Action,
    reason: row.reason,
    ruleId: row.rule_id,
    policyVersion: row.policy_version,
  }
}

function toState(row: DecisionRow, votes: RecordedState['votes'], intact: boolean): RecordedState {
  const hold = row.hold_json === null ? null : storedHold(row)
  return {
    route: row.route as RecordedState['route'],
    requestId: row.request_id,
    payloadDigest: row.payload_digest,
    kind: row.kind,
    status: row.status,
    ...answerOf(row),
    hold: hold && { quorum: hold.quorum, approvers: hold.approvers, ttlMs: hold.ttlMs },
    heldAt: new Date(Number(row.decided_at)),
    votes,
    intact,
  }
}
