/** The cloud-log capability: a cloud co-signer's single-use ledger of authorizations and its hash-chained log. */
export { openCloudLog } from './log.js'
export type { AuthorizedSigning, CloudLog, CompletedSignature, RecordOutcome } from './log.js'
export { CLOUD_LOG_MIGRATIONS } from './schema.js'
