/**
 * The hub: the workspace service (the Fireblocks-compatible REST API, the co-signer link, the transaction
 * pipeline) and the cloud co-signers.
 */
export { CHAIN_ERRORS } from './chains/index.js'
export {
  AuthorizationGuard,
  cloudCosignerConfig,
  loadCloudCosignerConfig,
  readAuthorization,
  signAuthorization,
  startCloudCosigner,
  type AuthorizationCheck,
  type CloudCosignerConfig,
  type CloudCosignerOptions,
  type RunningCloudCosigner,
} from './cloud/index.js'
