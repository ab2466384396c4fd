import type { ServiceApp } from '../service/index.js'
import type { Logger } from 'pino'
import { systemClock, type Clock } from '../core/index.js'
import type { CompiledPolicy } from '../policy/index.js'
import { createServiceServer, readTlsMaterial, type Readiness } from '../service/index.js'
import type { Store } from '../storage/index.js'
import { callbackRoutes } from './callback-routes.js'
import type { HandlerConfig } from './config.js'
import type { HoldAnnouncer } from './hold-webhook.js'
import { HandlerMetrics } from './metrics.js'

export interface ServerDeps {
  readonly config: HandlerConfig
  /** The running policy; the service loads one before it listens and a reload only ever replaces it. */
  readonly policy: () => CompiledPolicy
  readonly store: Store
  readonly log: Logger
  readonly clock?: Clock
  readonly holds?: HoldAnnouncer
}

export interface HandlerServer {
  readonly app: ServiceApp
  readonly metrics: HandlerMetrics
  /** What `/readyz` reports, on this server and on the admin listener. */
  readonly readiness: () => Promise<Readiness>
}

/**
 * The handler's server: the service shell (TLS, limits, probes, errors) with the callback routes. It
 * serves `/metrics` itself only when no admin listener is configured: the co-signer's port is not the
 * place for them.
 */
export function buildServer(deps: ServerDeps): HandlerServer {
  const { config } = deps
  const metrics = new HandlerMetrics({ policy: deps.policy, store: deps.store })
  // Ready when the store answers; the policy is always loaded (start-up refuses to listen without one),
  // so readiness names its version.
  const readiness = async () => {
    const store = await deps.store.ping().then(
      () => true,
      () => false,
    )
    return { ready: store, policy: deps.policy().version, store }
  }
  const app = createServiceServer({
    log: deps.log,
    ...(config.tls ? { tls: readTlsMaterial(config.tls) } : {}),
    bodyLimitBytes: config.bodyLimitBytes,
    limits: config.limits,
    ...(config.admin ? {} : { metrics: metrics.registry }),
    readiness,
  })
  void app.register(
    callbackRoutes({
      config,
      policy: deps.policy,
      store: deps.store,
      log: deps.log,
      metrics,
      clock: deps.clock ?? systemClock,
      ...(deps.holds ? { holds: deps.holds } : {}),
    }),
  )
  return { app, metrics, readiness }
}
