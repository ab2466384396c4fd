import { CountersignError, systemClock, type Clock } from '../core/index.js'
import { APPROVAL_MIGRATIONS } from './decisions/votes-schema.js'
import {
  castVote,
  listHeld,
  type HeldRequest,
  type SignedVoteInput,
  type VoteTarget,
  type VoteVerifier,
} from './decisions/votes.js'
import {
  addApprover,
  listApprovers,
  removeApprover,
  type Approver,
  type ApproverInput,
} from './decisions/approvers.js'
import {
  appendEvents,
  readAudit,
  type AuditEntry,
  type AuditVerification,
  type ChainAnchor,
} from './audit/chain.js'
import { AUDIT_MIGRATIONS } from './audit/schema.js'
import { CONSOLE_MIGRATIONS, consoleStore, type ConsoleStore } from './console/index.js'
import { Batcher, Failed } from './batcher.js'
import { openDatabase } from './database/open.js'
import { tables, type StorageDatabase, type StorageHealth, type WriteSession } from './database/types.js'
import type { Planner, RequestFacts, Route, Settlement } from './decisions/plan.js'
import { DECISION_MIGRATIONS, type DecisionTables } from './decisions/schema.js'
import { requestLock } from './decisions/identity.js'
import { settleBatch, type SettleJob } from './decisions/settle.js'
import { checkFacts } from './decisions/validate.js'
import { verifyAuditAndDecisions } from './decisions/verify.js'
import {
  countHeld,
  findDecisions,
  readDecision,
  type DecisionDetail,
  type DecisionFilter,
} from './decisions/queries.js'
import { readUsage, type WindowSpan, type WindowUsage } from './velocity/usage.js'
import { NotFound, StoreUnavailable } from './errors.js'
import { migrate, type Migration } from './migrations.js'
import { VELOCITY_MIGRATIONS } from './velocity/schema.js'
import {
  releaseReservations,
  reservedSeriesLocks,
  type ReleasedReservation,
  type VelocityFigures,
} from './velocity/ledger.js'

export interface RecordedDecision {
  readonly route: Route
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

/** Durable state of the callback handler: decisions, velocity ledger, approvals and the audit chain. */
export interface Store {
  readonly dialect: StorageDatabase['dialect']
  /** Reads the request's recorded state, asks `planner` for a plan, and executes it in one transaction. */
  settle(facts: RequestFacts, planner: Planner): Promise<Settlement>
  /** Records a signed vote once `verify` accepts it against the request as recorded and the approver's key. */
  castVote(target: VoteTarget, vote: SignedVoteInput, verify: VoteVerifier): Promise<HeldRequest>
  listHeld(): Promise<HeldRequest[]>
  addApprover(input: ApproverInput): Promise<Approver>
  removeApprover(id: string): Promise<Approver>
  listApprovers(): Promise<Approver[]>
  releaseVelocity(requestId: string): Promise<ReleasedReservation[]>
  listDecisions(sinceMs: number): Promise<RecordedDecision[]>
  /** `decisions list`: newest first, filtered, with votes. */
  findDecisions(filter: DecisionFilter): Promise<DecisionDetail[]>
  /** `decisions show`: the request's decision on each route it arrived on (or on `route`). */
  readDecision(requestId: string, route?: Route): Promise<DecisionDetail[]>
  /** Requests held for a quorum now. */
  countHeld(): Promise<number>
  /** `velocity show`: what each group has used of each window at `nowMs`. */
  velocityUsage(windows: readonly WindowSpan[], nowMs: number): Promise<WindowUsage[]>
  /** The chain (holding `anchor`'s entry, when given), and every decision against the entry that recorded it. */
  verifyAudit(anchor?: ChainAnchor): Promise<AuditVerification>
  readAudit(sinceMs?: number): AsyncGenerator<AuditEntry>
  /** The approvals console's passkeys, challenges, enrolment tokens and sessions. */
  readonly console: ConsoleStore
  /** Throws when the store cannot take writes (readiness). */
  ping(): Promise<void>
  health(): StorageHealth
  close(): Promise<void>
}

export interface OpenStoreOptions {
  /** Milliseconds since the epoch; injectable so tests can move time. */
  readonly clock?: Clock
}

/** The handler's capabilities, each with its own migrations. */
export const HANDLER_MIGRATIONS: readonly Migration[] = [
  ...AUDIT_MIGRATIONS,
  ...VELOCITY_MIGRATIONS,
  ...APPROVAL_MIGRATIONS,
  ...DECISION_MIGRATIONS,
  ...CONSOLE_MIGRATIONS,
]

/** Requests recorded in one transaction at most; the statements are chunked below the databases' limits. */
const MAX_DECISIONS_PER_BATCH = 256

/** Wraps every database failure so callers can fail closed on one error type. */
export async function guarded<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (error instanceof CountersignError) throw error
    throw new StoreUnavailable(`store ${what} failed`, { cause: error })
  }
}

/**
 * Records a batch in one transaction; when that transaction fails, records each request of the batch in a
 * transaction of its own, so a request the database refuses fails alone, never the requests it was
 * batched with.
 */
function batchProcessor(db: StorageDatabase, clock: Clock) {
  const once = (jobs: readonly SettleJob[]) => db.write((session) => settleBatch(session, jobs, clock.now()))
  return async (jobs: readonly SettleJob[]): Promise<(Settlement | Failed)[]> => {
    try {
      return await once(jobs)
    } catch (error) {
      if (jobs.length === 1 || !db.health().ready) throw error
      return Promise.all(
        jobs.map((job) =>
          once([job]).then(
            ([result]) => result!,
            (failure: unknown) => new Failed(failure),
          ),
        ),
      )
    }
  }
}

/** Opens `sqlite:PATH` (`sqlite::memory:` for tests) or `postgres://...` and applies pending migrations. */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  const clock = options.clock ?? systemClock
  const db = await guarded('open', () => Promise.resolve(openDatabase(url)))
  try {
    await guarded('migration', () => migrate(db, HANDLER_MIGRATIONS, clock.now()))
  } catch (error) {
    await db.close()
    throw error
  }
  // Decisions that arrive while a batch is being recorded are recorded together in the next transaction.
  const decisions = new Batcher<SettleJob, Settlement>(batchProcessor(db, clock), MAX_DECISIONS_PER_BATCH)
  return {
    dialect: db.dialect,
    settle: async (facts, planner) => {
      checkFacts(facts)
      return guarded('write', () => decisions.submit({ facts, planner }))
    },
    castVote: (target, vote, verify) =>
      guarded('write', () => db.write((session) => castVote(session, target, vote, verify, clock.now()))),
    listHeld: () => guarded('read', () => db.read((reader) => listHeld(reader))),
    addApprover: (input) =>
      guarded('write', () => db.write((session) => addApprover(session, input, clock.now()))),
    removeApprover: (id) =>
      guarded('write', () => db.write((session) => removeApprover(session, id, clock.now()))),
    listApprovers: () => guarded('read', () => db.read((reader) => listApprovers(reader))),
    releaseVelocity: (requestId) =>
      guarded('write', () => db.write((session) => releaseAll(session, requestId, clock.now()))),
    listDecisions: (sinceMs) => guarded('read', () => listDecisions(db, sinceMs)),
    findDecisions: (filter) => guarded('read', () => db.read((reader) => findDecisions(reader, filter))),
    readDecision: (requestId, route) =>
      guarded('read', () => db.read((reader) => readDecision(reader, requestId, route))),
    countHeld: () => guarded('read', () => db.read((reader) => countHeld(reader))),
    velocityUsage: (windows, nowMs) =>
      guarded('read', () => db.read((reader) => readUsage(reader, windows, nowMs))),
    verifyAudit: (anchor) => guarded('read', () => verifyAuditAndDecisions((work) => db.read(work), anchor)),
    readAudit: (sinceMs) => readAudit((work) => db.read(work), sinceMs),
    console: guardedConsole(consoleStore(db, clock)),
    ping: () => guarded('ping', () => db.check()),
    health: () => db.health(),
    close: async () => {
      await decisions.idle()
      await db.close()
    },
  }
}

/** The console store with every database failure wrapped, as the rest of the store's. */
function guardedConsole(store: ConsoleStore): ConsoleStore {
  const wrapped = {} as Record<string, unknown>
  for (const [name, method] of Object.entries(store) as [string, (...args: unknown[]) => Promise<unknown>][])
    wrapped[name] = (...args: unknown[]) => guarded(`console ${name}`, () => method(...args))
  return wrapped as unknown as ConsoleStore
}

/** `velocity release`: takes back the reservations of a requestId on whichever route holds them. */
async function releaseAll(session: WriteSession, requestId: string, now: number) {
  const routes: Route[] = ['config', 'tx']
  await session.lock(routes.map((route) => requestLock(route, requestId)))
  const locks = (
    await Promise.all(routes.map((route) => reservedSeriesLocks(session.db, route, requestId)))
  ).flat()
  await session.lock(locks)
  const released: ReleasedReservation[] = []
  for (const route of routes) released.push(...(await releaseReservations(session.db, route, requestId, now)))
  if (released.length === 0) throw new NotFound(`no active velocity reservation for request ${requestId}`)
  await appendEvents(session, [{ event: 'velocity-released', requestId, at: now, body: { released } }])
  return released
}

async function listDecisions(db: StorageDatabase, sinceMs: number): Promise<RecordedDecision[]> {
  const rows = await db.read((reader) =>
    tables<DecisionTables>(reader)
      .selectFrom('decisions')
      .selectAll()
      .where('decided_at', '>=', sinceMs)
      .orderBy('decided_at')
      .execute(),
  )
  return rows.map((row) => ({
    route: row.route as Route,
    requestId: row.request_id,
    kind: row.kind,
    status: row.status,
    heldByPolicy: row.hold_json !== null,
    action: row.action,
    reason: row.reason,
    ruleId: row.rule_id,
    policyVersion: row.policy_version,
    decidedAt: new Date(Number(row.decided_at)),
    request: JSON.parse(row.request_json) as unknown,
    velocity: (JSON.parse(row.trace_json) as { velocity?: RecordedVelocity[] }).velocity ?? [],
  }))
}
