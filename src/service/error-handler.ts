import type { FastifyError, FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { describeError } from './describe-error.js'

/**
 * One place turns a thrown error into an answer, and it never leaks: no stack, path or internal message
 * reaches the caller, only the status (client errors keep theirs, anything else is 500). The cause goes to
 * the log. `body` lets a service answer in its wire format (the callback handler sends nothing at all).
 */
export function installErrorHandler(
  app: FastifyInstance,
  log: Logger,
  body: (status: number) => unknown = () => '',
): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status =
      typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 600
        ? error.statusCode
        : 500
    if (status >= 500) log.error({ method: request.method, cause: describeError(error) }, 'request failed')
    else log.warn({ method: request.method, status, code: error.code }, 'request refused')
    return reply.code(status).send(body(status))
  })
}
