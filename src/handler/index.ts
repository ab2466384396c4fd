/**
 * The callback handler service: HTTP(S) server, the two auth modes, per-API-user configuration, the
 * request pipeline, health and metrics.
 */
export { startHandler, handlerLogger } from './service.js'
export type { RunningHandler, StartOptions } from './service.js'
export { compileConfig, loadConfigFile, readStoreUrl } from './config.js'
export type { HandlerConfig, ApiUser } from './config.js'
export { ConfigInvalid } from '../service/index.js'
export { prepareDevelopmentMode } from './dev-mode.js'
export type { DevelopmentOptions, DevelopmentSetup } from './dev-mode.js'
export { buildServer } from './server.js'
export type { ServerDeps } from './server.js'
export { HoldWebhook } from './hold-webhook.js'
export type { HoldCreatedEvent, HoldWebhookOptions, WebhookTarget } from './hold-webhook.js'
export { describeRequest, formatUsd, requestView } from './request-view.js'
export type { RequestView } from './request-view.js'
