import type { ServiceApp, ServicePlugin } from '../service/index.js'
import { CALLBACK_ROUTES, callbackPath, type AuthMode } from '../protocol/index.js'
import type { HandlerConfig } from './config.js'
import { handleCallback, type PipelineDeps } from './pipeline.js'

/** Routes served per auth mode; certificate-mode routes exist only over TLS, where the co-signer pins our key. */
function modesServed(config: HandlerConfig): AuthMode[] {
  const modes = new Set([...config.apiUsers.values()].map((user) => user.authMode))
  return [...modes].filter((mode) => mode === 'jwt' || config.tls !== undefined)
}

/**
 * The callback routes, as one encapsulated Fastify plugin. The co-signer sends the bare JWT with a content
 * type nobody documents, so inside this plugin every body is read as raw text; the parsers are the
 * plugin's own, and routes registered beside it (probes, a hub API, a console) keep the server's JSON.
 */
export function callbackRoutes(deps: PipelineDeps): ServicePlugin {
  return async (instance: ServiceApp) => {
    instance.removeAllContentTypeParsers()
    instance.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body))
    for (const mode of modesServed(deps.config)) {
      for (const route of CALLBACK_ROUTES) {
        instance.post(callbackPath(deps.config.basePath, mode, route), async (request, reply) => {
          // The request's arrival (Fastify starts the clock when the request comes in, before its body is
          // read), so latency and the policy's `now` include any wait in the queue.
          const receivedAt = deps.clock.now() - Math.round(reply.elapsedTime)
          const body = typeof request.body === 'string' ? request.body : ''
          const result = await handleCallback(deps, route, mode, body, receivedAt, request.ip)
          reply.code(result.status)
          if (result.contentType) reply.header('content-type', result.contentType)
          return reply.send(result.body)
        })
      }
    }
  }
}
