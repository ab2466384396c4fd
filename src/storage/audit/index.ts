/** The audit capability: the append-only hash chain. */
export { GENESIS_HASH, appendEvents, readAudit, readEntriesByHash, verifyChain } from './chain.js'
export type {
  AuditEntry,
  AuditEvent,
  AuditEventType,
  AuditVerification,
  ChainAnchor,
  HubAuditEventType,
} from './chain.js'
export { AUDIT_MIGRATIONS } from './schema.js'
