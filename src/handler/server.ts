import type { ServiceApp } from '../service/index.js'
import type { Logger } from 'pino'
import { systemClock, type Clock } from '../core/index.js'
import type { CompiledPolicy } from '../policy/index.js'
import { createServiceServer, readTlsMaterial } from '../service/index.js'
import type { Store } from '../storage/index.js'
import { callbackRoutes } from './callback-routes.js'
import type { HandlerConfig } from './config.js'
import { HandlerMetrics } from './metrics.js'

export interface ServerDeps {
  readonly config: HandlerConfig
  /** The running policy; the service loads one before it listens and a reload only ever replaces it. */
  readonly policy: () => CompiledPolicy
  readonly store: Store
  readonly log: Logger
  readonly clock?: Clock
}

/** The handler's server: the service shell (TLS, limits, probes, metrics, errors) with the callback routes. */
export function buildServer(deps: ServerDeps): { app: ServiceApp; metrics: HandlerMetrics } {
  const { config } = deps
  const metrics = new HandlerMetrics({ policy: deps.policy, store: deps.store })
  const app = createServiceServer({
    log: deps.log,
    ...(config.tls ? { tls: readTlsMaterial(config.tls) } : {}),
    bodyLimitBytes: config.bodyLimitBytes,
    limits: config.limits,
    metrics: metrics.registry,
    // Ready when the store answers; the policy is always loaded (start-up refuses to listen without one),
    // so readiness names its version.
    readiness: async () => {
      const store = await deps.store.ping().then(
        () => true,
        () => false,
      )
      return { ready: store, policy: deps.policy().version, store }
    },
  })
  void app.register(
    callbackRoutes({
      config,
      policy: deps.policy,
      store: deps.store,
      log: deps.log,
      metrics,
      clock: deps.clock ?? systemClock,
    }),
  )
  return { app, metrics }
}
