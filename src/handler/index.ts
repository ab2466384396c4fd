/**
 * The callback handler service: HTTP(S) server, the two auth modes, per-API-user configuration, the
 * request pipeline, health and metrics.
 */
export { startHandler } from './service.js'
export type { RunningHandler, StartOptions } from './service.js'
export { compileConfig, loadConfigFile, readStoreUrl } from './config.js'
export type { HandlerConfig, ApiUser } from './config.js'
export { ConfigInvalid, HANDLER_ERRORS } from './errors.js'
export type { HandlerErrorCode } from './errors.js'
export { prepareDevelopmentMode } from './dev-mode.js'
export type { DevelopmentSetup } from './dev-mode.js'
export { buildServer } from './server.js'
export type { ServerDeps } from './server.js'
