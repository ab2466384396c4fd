/**
 * The co-signer daemon (docs/cosigner.md): paired with API users through single-use pairing tokens, its
 * secrets sealed under a key-encryption key the operator holds, it asks each API user's callback handler to
 * approve every signing attempt and takes its share of the signatures it approved.
 */
export {
  COSIGNER_ERRORS,
  CosignerLocked,
  NotInitialized,
  NotPaired,
  type CosignerErrorCode,
} from './errors.js'
export type { CallbackSchedule } from './approver.js'
export { CallbackSettingSchema, type CallbackSetting } from './callback-target.js'
export {
  createCosignerFolder,
  openCosignerFolder,
  readSettings,
  type CosignerFolder,
  type KekSettings,
  type Unlock,
} from './folder.js'
export {
  backupCosigner,
  cosignerPublicKey,
  cosignerStatus,
  listApiUsers,
  renameApiUser,
  restoreCosigner,
  setCallback,
  unpairApiUser,
  type ApiUserView,
  type CosignerStatus,
} from './operations.js'
export { pairCosigner, readPairings, type Pairing } from './pairing.js'
export { startCosigner, type CosignerOptions, type RunningCosigner } from './start.js'
