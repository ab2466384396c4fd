/**
 * The hub: the workspace service and the cloud co-signers. Today: the cloud co-signers (./cloud).
 */
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
