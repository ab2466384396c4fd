/**
 * The shell of every Countersign server (the callback handler today; the hub, the cloud co-signers and the
 * co-signer daemon next): configuration primitives, the Fastify factory, the process lifecycle.
 */
export { SERVICE_ERRORS, ConfigInvalid, StartupFailed, renderProblem } from './errors.js'
export type { ConfigProblem } from './errors.js'
export { closestKey } from './closest-key.js'
export { readYamlSource } from './yaml-source.js'
export type { KeyPath, YamlSource } from './yaml-source.js'
export { substituteEnv } from './substitute-env.js'
export type { UnsetVariable } from './substitute-env.js'
export { compileConfigDocument, loadConfig } from './load-config.js'
export type { CompileContext, CompileOptions, ConfigCompiler } from './load-config.js'
export {
  adminSchema,
  listenSchema,
  tlsSchema,
  storeUrlSchema,
  parseListen,
  readKeyText,
  readTlsMaterial,
  redactStoreUrl,
  resolveAdmin,
  resolvePath,
  resolveStoreUrl,
  resolveTlsFiles,
} from './config-fields.js'
export type { AdminAddress, ListenAddress, TlsFiles, TlsMaterial } from './config-fields.js'
export { describeError } from './describe-error.js'
export { DEFAULT_SERVER_LIMITS } from './server-limits.js'
export type { ServerLimits } from './server-limits.js'
export { createServiceServer, PROBE_PATHS } from './create-server.js'
export type { MetricsSource, Readiness, ServiceServerOptions } from './create-server.js'
export type { WebSocketOptions } from './web-sockets.js'
export { startAdminServer } from './admin-server.js'
export type { AdminServerOptions, RunningAdminServer } from './admin-server.js'
export { clusterMetrics, shareMetricsWithPrimary } from './cluster-metrics.js'
export { listenOn } from './listen.js'
export { storeOpenFailed } from './store-open-failure.js'
export { requireExistingStore } from './existing-store.js'
export { createServiceLogger, MAX_LOG_STRING } from './create-logger.js'
export type { ServiceLoggerOptions } from './create-logger.js'
export { captureSignals, exitOnFatalError } from './process-signals.js'
export type { ProcessSignals, RunningService } from './process-signals.js'
export { DEFAULT_RESPAWN, runWorkers } from './run-workers.js'
export type { RespawnPolicy, WorkersOptions } from './run-workers.js'
export { consoleShell, randomToken } from './console/console-shell.js'
export type {
  ConsoleKit,
  ConsoleNavItem,
  ConsoleShellOptions,
  ConsoleState,
} from './console/console-shell.js'
export { CHALLENGE_TTL_MS, PASSKEY_BODY_LIMIT } from './console/auth-routes.js'
export type { EventSource as ConsoleEventSource } from './console/events.js'
export type { RelyingParty, StoredPasskey } from './console/passkeys.js'
// The server types services build on, so that only this module depends on Fastify itself.
export type {
  FastifyInstance as ServiceApp,
  FastifyPluginAsync as ServicePlugin,
  FastifyReply as ServiceReply,
  FastifyRequest as ServiceRequest,
} from 'fastify'
export type { WebSocket as ServiceWebSocket } from 'ws'
export {
  compileAdmin,
  compileConsole,
  compileLimits,
  compileListen,
  consoleSchema,
  limitsSchema,
  unlessRefused,
} from './server-config.js'
export type { ConsoleConfig } from './server-config.js'
