/**
 * Durable state behind one interface: idempotent decisions keyed by `requestId` and payload digest, the
 * velocity ledger, the approval queue and the hash-chained audit log, on SQLite (embedded default) or
 * PostgreSQL (several replicas), through one query layer.
 */
export { openStore } from './store.js'
export type { Store, OpenStoreOptions, RecordedDecision, RecordedVelocity } from './store.js'
export { ALTERED_REPLAY_REASON } from './decisions.js'
export type {
  Decider,
  HoldRequirement,
  HoldState,
  RecordedVote,
  RequestFacts,
  Settlement,
  Verdict,
} from './decisions.js'
export type { VelocityFigures, VelocitySeries, ReleasedReservation } from './velocity.js'
export type { HeldRequest, VoteInput } from './approvals.js'
export type { AuditEntry, AuditEventType, AuditVerification } from './audit.js'
export { GENESIS_HASH } from './audit.js'
export { NotFound, StoreConflict, StoreUnavailable, STORE_ERRORS } from './errors.js'
export type { StoreErrorCode } from './errors.js'
export { WRITER_LOCK_ID as POSTGRES_WRITER_LOCK_ID } from './sql/postgres.js'
