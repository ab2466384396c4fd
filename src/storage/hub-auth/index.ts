/** The hub's REST authentication capability: API users, console users, single-use request nonces, Idempotency-Key records. */
export { findApiUser, insertApiUser, listApiUsers, setApiUserAllowedIps } from './api-users.js'
export type { ApiUserRecord } from './api-users.js'
export { findConsoleUser, listConsoleUsers, putConsoleUser } from './console-users.js'
export type { ConsoleUserRecord } from './console-users.js'
export { claimNonce, purgeExpiredNonces } from './nonces.js'
export {
  completeIdempotencyKey,
  IDEMPOTENCY_RETENTION_MS,
  purgeExpiredIdempotencyKeys,
  reserveIdempotencyKey,
} from './idempotency.js'
export type { IdempotencyRecord, IdempotencyScope } from './idempotency.js'
export { HUB_AUTH_MIGRATIONS } from './schema.js'
export type { HubAuthTables } from './schema.js'
