import type { ServerOptions as HttpServerOptions } from 'node:http'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import type { TlsMaterial } from './config-fields.js'
import { guardConnections } from './connection-guard.js'
import { installErrorHandler } from './error-handler.js'
import { acceptEmptyJsonBodies } from './json-body.js'
import { DEFAULT_SERVER_LIMITS, type ServerLimits } from './server-limits.js'
import { acceptWebSockets, type WebSocketOptions } from './web-sockets.js'

export const PROBE_PATHS = { live: '/healthz', ready: '/readyz', metrics: '/metrics' } as const

/** What `/readyz` reports: 200 when `ready`, else 503; the other fields are shown as they are. */
export interface Readiness {
  readonly ready: boolean
  readonly [detail: string]: unknown
}

/** Metrics in the Prometheus text format: a prom-client `Registry`, or the sum of a cluster's workers. */
export interface MetricsSource {
  readonly contentType: string
  metrics(): Promise<string>
}

export interface ServiceServerOptions {
  readonly log: Logger
  readonly tls?: TlsMaterial
  readonly bodyLimitBytes?: number
  readonly limits?: Partial<ServerLimits>
  /** Served on `/metrics`; leave it out when an admin listener serves them (see `startAdminServer`). */
  readonly metrics?: MetricsSource
  /** Checked on every `/readyz` (store reachable, configuration loaded...). */
  readonly readiness?: () => Promise<Readiness>
  /** The body of an error answer; empty by default. */
  readonly errorBody?: (status: number) => unknown
  /** Lets routes accept WebSockets; on stop, open sockets are closed with 1001 (going away). */
  readonly webSockets?: WebSocketOptions
}

function nodeServerOptions(limits: ServerLimits, tls: TlsMaterial | undefined) {
  const http: HttpServerOptions = {
    requestTimeout: limits.requestTimeoutMs,
    headersTimeout: limits.headersTimeoutMs,
    // Node checks the two timeouts above on this interval (30 s by default, which would triple them).
    connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
  }
  if (!tls) return { http }
  return {
    https: {
      ...http,
      cert: tls.cert,
      key: tls.key,
      handshakeTimeout: limits.headersTimeoutMs,
      ...(tls.clientCa ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
    },
  }
}

/**
 * The server every Countersign service runs: HTTP or TLS, bounded clients (timeouts, a connection cap, a
 * bounded drain), probes, metrics, JSON that tolerates an empty body, and the never-leak error handler.
 * Services add their routes as plugins; `app.close()` drains.
 */
export function createServiceServer(options: ServiceServerOptions): FastifyInstance {
  const limits = { ...DEFAULT_SERVER_LIMITS, ...options.limits }
  const app = Fastify({
    ...nodeServerOptions(limits, options.tls),
    ...(options.bodyLimitBytes ? { bodyLimit: options.bodyLimitBytes } : {}),
    logger: false,
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    return503OnClosing: true,
  })
  guardConnections(app, limits, options.tls ? 'secureConnection' : 'connection')
  acceptEmptyJsonBodies(app)
  installErrorHandler(app, options.log, options.errorBody)
  if (options.webSockets) acceptWebSockets(app, options.webSockets)

  app.get(PROBE_PATHS.live, async () => ({ status: 'ok' }))
  const readiness = options.readiness ?? (async () => ({ ready: true }))
  app.get(PROBE_PATHS.ready, async (_request, reply) => {
    const { ready, ...details } = await readiness().catch(() => ({ ready: false }))
    reply.code(ready ? 200 : 503)
    return { status: ready ? 'ready' : 'not ready', ...details }
  })
  const metrics = options.metrics
  if (metrics) {
    app.get(PROBE_PATHS.metrics, async (_request, reply) => {
      reply.header('content-type', metrics.contentType)
      return metrics.metrics()
    })
  }
  return app
}
