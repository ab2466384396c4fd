/**
 * The storage layer: one typed query layer (Kysely) over SQLite (embedded default) and PostgreSQL
 * (replicas), migrations owned per module, locks per aggregate, and capability stores. Today's
 * capabilities are the callback handler's: idempotent decisions keyed by route and requestId, executed
 * from settle plans the handler computes; the velocity ledger; the approval queue; the hash-chained audit.
 */
export { openStore, HANDLER_MIGRATIONS } from './handler-store.js'
export type { Store, OpenStoreOptions, RecordedDecision, RecordedVelocity } from './handler-store.js'
export type {
  Answer,
  HoldRequirement,
  PlannedAudit,
  Planner,
  RecordedState,
  RecordedVote,
  RequestFacts,
  Route,
  SettlePlan,
  SettleState,
  Settlement,
  Verdict,
} from './decisions/plan.js'
export { requestLock } from './decisions/identity.js'
export type { VelocityFigures, VelocitySeries, ReleasedReservation } from './velocity/ledger.js'
export type {
  HeldRequest,
  SignedVoteInput,
  VoteContext,
  VoteTarget,
  VoteVerifier,
} from './decisions/votes.js'
export type { Approver, ApproverInput } from './decisions/approvers.js'
export type { DecisionDetail, DecisionFilter } from './decisions/queries.js'
export type { WindowSpan, WindowUsage } from './velocity/usage.js'
export type { AuditEntry, AuditEventType, AuditVerification, ChainAnchor } from './audit/chain.js'
export { GENESIS_HASH } from './audit/chain.js'
export { migrate, checkMigrations, type Migration } from './migrations.js'
export { openDatabase } from './database/open.js'
export { LockRank, tables } from './database/types.js'
export type {
  AggregateLock,
  Dialect,
  Executor,
  StorageDatabase,
  StorageHealth,
  WriteSession,
} from './database/types.js'
export {
  SESSION_LIMITS as POSTGRES_SESSION_LIMITS,
  advisoryKey as postgresAdvisoryKey,
} from './database/postgres.js'
export {
  NotFound,
  RecordRefused,
  STORAGE_ERRORS,
  StoreConflict,
  StoreSchemaUnknown,
  StoreUnavailable,
  VoteRefused,
} from './errors.js'
export { openCloudLog, CLOUD_LOG_MIGRATIONS } from './cloud-log/index.js'
export type { AuthorizedSigning, CloudLog, RecordOutcome } from './cloud-log/index.js'
