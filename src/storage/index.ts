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
export { consoleStore, CONSOLE_MIGRATIONS } from './console/index.js'
export type {
  ConsoleChallenge,
  ConsoleCredential,
  ConsoleSession,
  ConsoleStore,
  NewChallenge,
  NewCredential,
} from './console/index.js'
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
// The hub's transactions, their votes and history, and the workspace keys.
export * from './hub-transactions/index.js'
// The hub's vault accounts, wallets, deposit addresses and balance ledger.
export {
  applyLedgerEntries,
  closeLedgerEntries,
  HUB_VAULT_MIGRATIONS,
  vaultStore,
} from './hub-vaults/index.js'
export type {
  AddressRecord,
  LedgerEntry,
  LedgerState,
  LedgerSums,
  NewAddress,
  NewVaultAccount,
  Page,
  PageCursor,
  PageRequest,
  SortOrder,
  VaultAccountFilter,
  VaultAccountRecord,
  VaultStore,
  WalletBalance,
  WalletKey,
  WalletRecord,
} from './hub-vaults/index.js'
export { HubLinkStore, HUB_LINK_MIGRATIONS } from './hub-link/index.js'
export type {
  Enrolment as LinkEnrolment,
  LinkJob,
  LinkJobKind,
  LinkJobOutcome,
  LinkJobReshare,
  LinkJobState,
  LinkParty,
  MailboxEntry,
  NewLinkJob,
  OutgoingMessage,
  PartyKind,
  RefreshLookup,
} from './hub-link/index.js'
// The hub's REST authentication: API users, single-use nonces, Idempotency-Key records.
export {
  claimNonce,
  completeIdempotencyKey,
  findApiUser,
  findConsoleUser,
  HUB_AUTH_MIGRATIONS,
  IDEMPOTENCY_RETENTION_MS,
  insertApiUser,
  listApiUsers,
  listConsoleUsers,
  purgeExpiredIdempotencyKeys,
  putConsoleUser,
  purgeExpiredNonces,
  reserveIdempotencyKey,
  setApiUserAllowedIps,
} from './hub-auth/index.js'
export type {
  ApiUserRecord,
  ConsoleUserRecord,
  IdempotencyRecord,
  IdempotencyScope,
} from './hub-auth/index.js'
/** The hub's webhooks: registered endpoints and the transactional outbox (src/storage/hub-webhooks). */
export { HUB_WEBHOOK_MIGRATIONS, enqueueWebhook, webhookOutbox } from './hub-webhooks/index.js'
export type {
  ClaimedWebhook,
  NewWebhookEndpoint,
  OutboxEntry,
  WebhookClaim,
  WebhookEndpoint,
  WebhookNotification,
  WebhookOutbox,
  WebhookPayloadVersion,
  WebhookState,
} from './hub-webhooks/index.js'
export { hubPolicyStore, HUB_POLICY_MIGRATIONS } from './hub-policy/index.js'
export type {
  DraftState,
  DraftTransition,
  DraftVote,
  GovernanceAudit,
  GovernanceEvent,
  HubPolicyStore,
  NewDraft,
  PolicyDraft,
  PublishedPolicy,
} from './hub-policy/index.js'
// The hash-chained audit log, for services that keep their own (the hub).
export { AUDIT_MIGRATIONS, appendEvents as appendAuditEvents, readAudit, verifyChain } from './audit/index.js'
export type { AuditEvent, HubAuditEventType } from './audit/index.js'
export { openCloudLog, CLOUD_LOG_MIGRATIONS } from './cloud-log/index.js'
export type { AuthorizedSigning, CloudLog, RecordOutcome } from './cloud-log/index.js'
export { VELOCITY_MIGRATIONS } from './velocity/index.js'
/** The hub's co-signers API: co-signer names, callback handlers per API user, pairing commands. */
export { hubCosignerStore, HUB_COSIGNER_MIGRATIONS } from './hub-cosigners/index.js'
export type {
  CallbackHandlerConfig,
  CosignerCommand,
  CosignerRequest,
  CosignerRequestStatus,
  CosignerRequestType,
  HubCosignerStore,
  StoredCallbackHandler,
} from './hub-cosigners/index.js'
export { openCosignerStore, COSIGNER_STORE_MIGRATIONS } from './cosigner-store/index.js'
export type {
  CosignerApproval,
  CosignerAuditEvent,
  CosignerPairing,
  CosignerStore,
  SealedSecret,
} from './cosigner-store/index.js'
