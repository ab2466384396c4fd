/** The cosigner-store capability: a customer co-signer's pairings, approvals, RETRY series, sealed secrets, audit. */
export { openCosignerStore } from './store.js'
export type {
  CosignerApproval,
  CosignerAuditEvent,
  CosignerPairing,
  CosignerStore,
  SealedSecret,
} from './store.js'
export { COSIGNER_STORE_MIGRATIONS } from './schema.js'
