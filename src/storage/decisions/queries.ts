import { sql } from 'kysely'
import { tables, type Executor } from '../database/index.js'
import { CALLBACK_ROUTES } from '../../protocol/index.js'
import type { HoldRequirement, RecordedVote, Route } from './plan.js'
import { HELD, type DecisionTables } from './schema.js'
import { decisionKey } from './identity.js'
import { readVotesOf } from './votes.js'

/**
 * Read queries of the operator commands (`decisions list|show`, the pending-holds gauge). Nothing here
 * writes or locks: it reads committed rows only.
 */
export interface DecisionFilter {
  /** Milliseconds since the epoch; decisions made at or after it. */
  readonly sinceMs?: number
  readonly action?: string
  readonly ruleId?: string
  readonly route?: Route
  /** A transaction's `txId` (tx route only). */
  readonly txId?: string
  /** A destination address or id: `destAddress`, `destId`, or a `destinations` entry's `dstAddress`/`dstId`. */
  readonly destination?: string
  /** Newest first, at most this many. */
  readonly limit: number
}

/** Everything recorded about one request: the answer, why, the trace and the votes. */
export interface DecisionDetail {
  readonly route: Route
  readonly requestId: string
  readonly kind: string
  readonly status: 'final' | 'held'
  readonly action: string
  readonly reason: string | null
  readonly ruleId: string | null
  readonly policyVersion: string
  readonly policyDigest: string
  readonly signerId: string | null
  readonly decidedAt: Date
  readonly updatedAt: Date
  readonly request: unknown
  /** The policy's trace of the decision (conditions evaluated, velocity figures seen). */
  readonly trace: unknown
  readonly hold: HoldRequirement | null
  readonly votes: readonly RecordedVote[]
}

type DecisionRow = DecisionTables['decisions']

/** Rows read per query while a filter the database cannot apply (txId, destination) drops some. */
const PAGE_SIZE = 500

function detailOf(row: DecisionRow, votes: readonly RecordedVote[]): DecisionDetail {
  const hold = row.hold_json === null ? null : (JSON.parse(row.hold_json) as HoldRequirement)
  return {
    route: row.route as Route,
    requestId: row.request_id,
    kind: row.kind,
    status: row.status,
    action: row.action,
    reason: row.reason,
    ruleId: row.rule_id,
    policyVersion: row.policy_version,
    policyDigest: row.policy_digest,
    signerId: row.signer_id,
    decidedAt: new Date(Number(row.decided_at)),
    updatedAt: new Date(Number(row.updated_at)),
    request: JSON.parse(row.request_json) as unknown,
    trace: (JSON.parse(row.trace_json) as { trace?: unknown }).trace ?? null,
    hold: hold === null ? null : { quorum: hold.quorum, approvers: hold.approvers, ttlMs: hold.ttlMs },
    votes,
  }
}

/** `%` and `_` are LIKE wildcards: a value is matched literally. */
function likeLiteral(value: string): string {
  return value.replace(/[\\%_]/g, (character) => `\\${character}`)
}

/** The recorded payload names `value` as the transaction's txId or one of its destinations. */
function requestMatches(request: unknown, filter: DecisionFilter): boolean {
  const payload = (request ?? {}) as Record<string, unknown>
  if (filter.txId !== undefined && payload.txId !== filter.txId) return false
  if (filter.destination === undefined) return true
  const destinations = Array.isArray(payload.destinations) ? (payload.destinations as unknown[]) : []
  const named = [payload.destAddress, payload.destId, ...destinations.flatMap(destinationIds)]
  return named.includes(filter.destination)
}

function destinationIds(destination: unknown): unknown[] {
  const entry = (destination ?? {}) as Record<string, unknown>
  return [entry.dstAddress, entry.dstId, entry.displayDstAddress]
}

function filtered(db: Executor, filter: DecisionFilter) {
  let query = tables<DecisionTables>(db).selectFrom('decisions').selectAll()
  if (filter.sinceMs !== undefined) query = query.where('decided_at', '>=', filter.sinceMs)
  if (filter.action !== undefined) query = query.where('action', '=', filter.action)
  if (filter.ruleId !== undefined) query = query.where('rule_id', '=', filter.ruleId)
  if (filter.route !== undefined) query = query.where('route', '=', filter.route)
  // The payload is canonical JSON, so a txId or destination appears as a quoted string: a cheap
  // pre-filter the database applies; `requestMatches` then checks the field exactly.
  for (const value of [filter.txId, filter.destination]) {
    if (value !== undefined)
      query = query.where(
        sql<boolean>`request_json LIKE ${`%${likeLiteral(JSON.stringify(value))}%`} ESCAPE '\\'`,
      )
  }
  return query.orderBy('decided_at', 'desc').orderBy('route').orderBy('request_id')
}

/** Decisions matching `filter`, newest first, with their votes. */
export async function findDecisions(db: Executor, filter: DecisionFilter): Promise<DecisionDetail[]> {
  const found: DecisionRow[] = []
  for (let offset = 0; found.length < filter.limit; offset += PAGE_SIZE) {
    const rows = await filtered(db, filter).limit(PAGE_SIZE).offset(offset).execute()
    for (const row of rows) {
      if (found.length < filter.limit && requestMatches(JSON.parse(row.request_json), filter)) found.push(row)
    }
    if (rows.length < PAGE_SIZE) break
  }
  return withVotes(db, found)
}

/** Every recorded decision about `requestId` (one per route it arrived on, usually one). */
export async function readDecision(
  db: Executor,
  requestId: string,
  route?: Route,
): Promise<DecisionDetail[]> {
  const rows = await tables<DecisionTables>(db)
    .selectFrom('decisions')
    .selectAll()
    // By primary key: a lookup by id alone names both routes.
    .where('route', 'in', route === undefined ? CALLBACK_ROUTES : [route])
    .where('request_id', '=', requestId)
    .orderBy('route')
    .execute()
  return withVotes(db, rows)
}

async function withVotes(db: Executor, rows: readonly DecisionRow[]): Promise<DecisionDetail[]> {
  const votes = await readVotesOf(
    db,
    rows.map((row) => ({ route: row.route, requestId: row.request_id })),
  )
  return rows.map((row) => detailOf(row, votes.get(decisionKey(row.route, row.request_id)) ?? []))
}

/** Requests held for a quorum right now (the pending-holds gauge). */
export async function countHeld(db: Executor): Promise<number> {
  const row = await tables<DecisionTables>(db)
    .selectFrom('decisions')
    .select((builder) => builder.fn.countAll<number>().as('held'))
    .where('status', '=', HELD)
    .executeTakeFirst()
  return Number(row?.held ?? 0)
}
