/** The cloud co-signers: the hub's signing authorization, the guard that checks and records it, the service. */
export { readAuthorization, signAuthorization, type AuthorizationCheck } from './authorization.js'
export { cloudCosignerConfig, loadCloudCosignerConfig, type CloudCosignerConfig } from './config.js'
export { AuthorizationGuard } from './guard.js'
export { startCloudCosigner, type CloudCosignerOptions, type RunningCloudCosigner } from './start.js'
