import { CountersignError, systemClock, type Clock } from '../core/index.js'
import { appendAudit, readAudit, verifyAudit, type AuditEntry, type AuditVerification } from './audit.js'
import { castVote, listHeld, type HeldRequest, type VoteInput } from './approvals.js'
import { Batcher } from './batcher.js'
import { settleBatch, type Decider, type RequestFacts, type SettleJob, type Settlement } from './decisions.js'
import { NotFound, StoreUnavailable } from './errors.js'
import { migrate } from './migrations.js'
import { openPostgres } from './sql/postgres.js'
import { openSqlite } from './sql/sqlite.js'
import type { SqlDatabase } from './sql/types.js'
import { release, type ReleasedReservation, type VelocityFigures } from './velocity.js'

export interface RecordedDecision {
  readonly requestId: string
  readonly kind: string
  readonly status: 'final' | 'held'
  /** True when the policy held the request for a quorum (`action` is then the humans' outcome, or RETRY). */
  readonly heldByPolicy: boolean
  readonly action: string
  readonly reason: string | null
  readonly ruleId: string | null
  readonly policyVersion: string
  readonly decidedAt: Date
  readonly request: unknown
  /** The velocity figures the deciding policy saw, before this request. */
  readonly velocity: readonly RecordedVelocity[]
}

export interface RecordedVelocity extends VelocityFigures {
  readonly windowId: string
  readonly groupKey: string
}

/** Durable state of the handler: decisions, velocity ledger, approvals and the audit chain. */
export interface Store {
  readonly dialect: SqlDatabase['dialect']
  settle(facts: RequestFacts, decider: Decider): Promise<Settlement>
  castVote(input: VoteInput): Promise<HeldRequest>
  listHeld(): Promise<HeldRequest[]>
  releaseVelocity(requestId: string): Promise<ReleasedReservation[]>
  listDecisions(sinceMs: number): Promise<RecordedDecision[]>
  verifyAudit(): Promise<AuditVerification>
  readAudit(sinceMs?: number): AsyncGenerator<AuditEntry>
  /** Throws when the database does not answer (readiness). */
  ping(): Promise<void>
  close(): Promise<void>
}

export interface OpenStoreOptions {
  /** Milliseconds since the epoch; injectable so tests can move time. */
  readonly clock?: Clock
}

/** Bounds the parameters of the multi-row statements (15 per decision) well under both databases' limits. */
const MAX_DECISIONS_PER_BATCH = 256

/** Wraps every database failure so callers can fail closed on one error type. */
async function guarded<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (error instanceof CountersignError) throw error
    throw new StoreUnavailable(`store ${what} failed`, { cause: error })
  }
}

async function openDatabase(url: string): Promise<SqlDatabase> {
  if (url.startsWith('sqlite:')) return openSqlite(url.slice('sqlite:'.length))
  if (/^postgres(ql)?:\/\//.test(url)) return openPostgres(url)
  throw new StoreUnavailable(`unsupported store URL (expected sqlite:PATH or postgres://...)`)
}

/** Opens `sqlite:PATH` (`sqlite::memory:` for tests) or `postgres://...` and applies pending migrations. */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  const clock = options.clock ?? systemClock
  const db = await guarded('open', () => openDatabase(url))
  await guarded('migration', () => migrate(db, clock.now()))
  // Decisions that arrive while a batch is being recorded are recorded together in the next transaction.
  const decisions = new Batcher<SettleJob, Settlement>(
    (jobs) => db.exclusive((session) => settleBatch(session, jobs, clock.now())),
    MAX_DECISIONS_PER_BATCH,
  )
  return {
    dialect: db.dialect,
    settle: (facts, decider) => guarded('write', () => decisions.submit({ facts, decider })),
    castVote: (input) =>
      guarded('write', () => db.exclusive((session) => castVote(session, input, clock.now()))),
    listHeld: () => guarded('read', () => db.read((session) => listHeld(session))),
    releaseVelocity: (requestId) =>
      guarded('write', () =>
        db.exclusive(async (session) => {
          const now = clock.now()
          const released = await release(session, requestId, now)
          if (released.length === 0)
            throw new NotFound(`no active velocity reservation for request ${requestId}`)
          await appendAudit(session, 'velocity-released', requestId, { released }, now)
          return released
        }),
      ),
    listDecisions: (sinceMs) =>
      guarded('read', () =>
        db.read(async (session) => {
          const rows = await session.all<Record<string, unknown>>(
            'SELECT request_id, kind, status, action, reason, rule_id, policy_version, decided_at, request_json, trace_json, hold_json FROM decisions WHERE decided_at >= ? ORDER BY decided_at',
            [sinceMs],
          )
          return rows.map((row) => ({
            requestId: String(row.request_id),
            kind: String(row.kind),
            status: row.status as 'final' | 'held',
            heldByPolicy: row.hold_json !== null,
            action: String(row.action),
            reason: (row.reason as string | null) ?? null,
            ruleId: (row.rule_id as string | null) ?? null,
            policyVersion: String(row.policy_version),
            decidedAt: new Date(Number(row.decided_at)),
            request: JSON.parse(String(row.request_json)) as unknown,
            velocity:
              (JSON.parse(String(row.trace_json)) as { velocity?: RecordedVelocity[] }).velocity ?? [],
          }))
        }),
      ),
    verifyAudit: () => guarded('read', () => verifyAudit(db)),
    readAudit: (sinceMs) => readAudit(db, sinceMs),
    ping: () => guarded('ping', () => db.read(async (session) => void (await session.one('SELECT 1 AS ok')))),
    close: async () => {
      await decisions.idle()
      await db.close()
    },
  }
}
