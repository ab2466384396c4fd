import { readFileSync } from 'node:fs'
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { systemClock, type Clock } from '../core/index.js'
import { HEALTH_PATHS, callbackPath, type AuthMode, type CallbackRoute } from '../protocol/index.js'
import type { CompiledPolicy } from '../policy/index.js'
import type { Store } from '../store/index.js'
import type { HandlerConfig } from './config.js'
import { HandlerMetrics } from './metrics.js'
import { handleCallback, type PipelineDeps } from './pipeline.js'

export interface ServerDeps {
  readonly config: HandlerConfig
  /** The running policy; the service loads one before it listens and a reload only ever replaces it. */
  readonly policy: () => CompiledPolicy
  readonly store: Store
  readonly log: Logger
  readonly clock?: Clock
}

/** Routes served per auth mode; certificate-mode routes exist only over TLS, where the co-signer pins our key. */
function modesServed(config: HandlerConfig): AuthMode[] {
  const modes = new Set([...config.apiUsers.values()].map((user) => user.authMode))
  return [...modes].filter((mode) => mode === 'jwt' || config.tls !== undefined)
}

function httpsOptions(config: HandlerConfig) {
  if (!config.tls) return undefined
  return {
    cert: readFileSync(config.tls.cert),
    key: readFileSync(config.tls.key),
    ...(config.tls.clientCa
      ? { ca: readFileSync(config.tls.clientCa), requestCert: true, rejectUnauthorized: true }
      : {}),
  }
}

export function buildServer(deps: ServerDeps): { app: FastifyInstance; metrics: HandlerMetrics } {
  const { config } = deps
  const metrics = new HandlerMetrics()
  const https = httpsOptions(config)
  const app = Fastify({
    ...(https ? { https } : {}),
    bodyLimit: config.bodyLimitBytes,
    logger: false,
    // Keep-alive connections from co-signers are reused; close idle ones well after a retry interval.
    keepAliveTimeout: 65_000,
    return503OnClosing: true,
  })

  // The co-signer sends the bare JWT, with a content type nobody documents: read every body as raw text.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body))

  const pipelineDeps: PipelineDeps = {
    config,
    policy: deps.policy,
    store: deps.store,
    log: deps.log,
    metrics,
    clock: deps.clock ?? systemClock,
  }

  for (const mode of modesServed(config)) {
    for (const route of ['tx', 'config'] as const satisfies readonly CallbackRoute[]) {
      app.post(callbackPath(config.basePath, mode, route), async (request, reply) => {
        const receivedAt = pipelineDeps.clock.now()
        const body = typeof request.body === 'string' ? request.body : ''
        const result = await handleCallback(pipelineDeps, route, mode, body, receivedAt)
        reply.code(result.status)
        if (result.contentType) reply.header('content-type', result.contentType)
        return reply.send(result.body)
      })
    }
  }

  // While draining, every answer closes its connection: an idle keep-alive connection would otherwise keep
  // the server, and a stopping process, open until the keep-alive timeout.
  let draining = false
  app.addHook('preClose', async () => {
    draining = true
  })
  app.addHook('onSend', async (_request, reply) => {
    if (draining) reply.header('connection', 'close')
  })

  app.get(HEALTH_PATHS.live, async () => ({ status: 'ok' }))
  // Ready when the store answers; the policy is always loaded (start-up refuses to listen without one), so
  // readiness names its version.
  app.get(HEALTH_PATHS.ready, async (_request, reply) => {
    const store = await deps.store.ping().then(
      () => true,
      () => false,
    )
    reply.code(store ? 200 : 503)
    return { status: store ? 'ready' : 'not ready', policy: deps.policy().version, store }
  })
  app.get(HEALTH_PATHS.metrics, async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType)
    return metrics.registry.metrics()
  })

  app.setErrorHandler((error: FastifyError, _request, reply) => {
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 ? error.statusCode : 500
    if (status >= 500) deps.log.error({ err: error.message }, 'request failed')
    else deps.log.warn({ status, code: error.code }, 'request refused')
    // Never an explanation on the wire: the co-signer needs none and an attacker should get none.
    reply.code(status).send('')
  })
  return { app, metrics }
}
