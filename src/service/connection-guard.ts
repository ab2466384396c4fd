import type { Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'
import type { ServerLimits } from './server-limits.js'

type Stage = 'idle' | 'receiving' | 'handling'

/**
 * Tracks every connection and what it is doing, so that
 * - at `maxConnections`, a new connection evicts the oldest one that is not being handled (a client
 *   trickling its body or holding an idle connection), and is refused only when all are being handled;
 * - on stop, connections with nothing being handled close at once, and the rest after `drainTimeoutMs`.
 * A request is "being handled" from its handler (body received) to its response.
 */
export function guardConnections(
  app: FastifyInstance,
  limits: Pick<ServerLimits, 'maxConnections' | 'drainTimeoutMs'>,
  connectionEvent: 'connection' | 'secureConnection',
): void {
  const stages = new Map<Socket, Stage>()
  let draining = false
  const server = app.server

  const evictOneFor = (socket: Socket): void => {
    for (const [candidate, stage] of stages) {
      if (stage !== 'handling') {
        candidate.destroy()
        stages.delete(candidate)
        return
      }
    }
    socket.destroy()
  }

  server.on(connectionEvent, (socket: Socket) => {
    if (draining) return void socket.destroy()
    if (stages.size >= limits.maxConnections) evictOneFor(socket)
    if (socket.destroyed) return
    stages.set(socket, 'idle')
    socket.once('close', () => stages.delete(socket))
  })

  const mark = (socket: Socket, stage: Stage) => {
    if (stages.has(socket)) stages.set(socket, stage)
  }
  app.addHook('onRequest', async (request) => mark(request.raw.socket, 'receiving'))
  app.addHook('preHandler', async (request) => mark(request.raw.socket, 'handling'))
  app.addHook('onResponse', async (request) => mark(request.raw.socket, 'idle'))

  let deadline: NodeJS.Timeout | undefined
  app.addHook('preClose', async () => {
    draining = true
    for (const [socket, stage] of stages) if (stage !== 'handling') socket.destroy()
    deadline = setTimeout(() => {
      for (const socket of stages.keys()) socket.destroy()
    }, limits.drainTimeoutMs)
    deadline.unref()
  })
  // While draining, every answer closes its connection: a keep-alive connection would otherwise keep the
  // server, and a stopping process, open until the keep-alive timeout.
  app.addHook('onSend', async (_request, reply) => {
    if (draining) reply.header('connection', 'close')
  })
  app.addHook('onClose', async () => clearTimeout(deadline))
}
