import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import type { AdminAddress } from './config-fields.js'
import { readTlsMaterial } from './config-fields.js'
import { createServiceServer, type MetricsSource, type Readiness } from './create-server.js'
import { listenOn } from './listen.js'

export interface AdminServerOptions {
  readonly address: AdminAddress
  readonly log: Logger
  readonly metrics?: MetricsSource
  readonly readiness?: () => Promise<Readiness>
  /** More routes on this listener (the handler's approvals console). */
  readonly routes?: (app: FastifyInstance) => Promise<void>
}

export interface RunningAdminServer {
  /** `http(s)://host:port` as bound. */
  readonly url: string
  close(): Promise<void>
}

/** Probes and scrapes are small GETs from a few clients: a handful of connections and short timeouts. */
const ADMIN_LIMITS = { maxConnections: 32, requestTimeoutMs: 5_000, drainTimeoutMs: 2_000 }

/**
 * The admin listener every service can have: `/healthz`, `/readyz` and `/metrics` on an address of their
 * own, plain HTTP by default. Probes then work where the service's own listener demands a client
 * certificate, and metrics are not served on the port its clients (a co-signer) reach. A service may add
 * routes of its own there (the handler's approvals console, for people rather than machines).
 */
export async function startAdminServer(options: AdminServerOptions): Promise<RunningAdminServer> {
  const app = createServiceServer({
    log: options.log,
    ...(options.address.tls ? { tls: readTlsMaterial(options.address.tls) } : {}),
    bodyLimitBytes: 1_024,
    limits: ADMIN_LIMITS,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.readiness ? { readiness: options.readiness } : {}),
  })
  try {
    if (options.routes) await app.register(options.routes)
    const url = await listenOn(app, options.address, options.address.tls !== undefined, 'admin.listen')
    return { url, close: () => app.close() }
  } catch (error) {
    await app.close()
    throw error
  }
}
