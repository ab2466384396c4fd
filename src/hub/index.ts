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
export { createHub, HUB_MIGRATIONS, openHubStore, type Hub, type HubOptions } from './hub.js'
export { hubConfigCompiler, loadHubConfig, type HubConfig } from './config.js'
export {
  LINK_CODES,
  LinkHub,
  linkRoutes,
  type JobSpec,
  type LinkHubOptions,
  type LinkRoutesOptions,
} from './link/index.js'
export { initWorkspace, STARTER_POLICY, type InitOptions, type InitResult } from './init.js'
export {
  consoleLinkFromStore,
  hubLogger,
  pairingTokenFromStore,
  startHub,
  type RunningHub,
} from './service.js'
export { ConsoleUserInvalid, issueConsoleLink, WORKSPACE_CONSOLE_PREFIX } from './console/console-users.js'
export { HUB_ERRORS, type HubErrorCode } from './errors.js'
/** The ids an attempt's link jobs and callback request have (docs/cosigner-protocol.md): txId and attempt. */
export { approvalJobId, signJobId } from './signing/link-signing.js'
export { callbackRequestId } from './pipeline/callback-request.js'
export { HubApiError } from './rest/api-error.js'
