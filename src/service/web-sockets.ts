import fastifyWebsocket from '@fastify/websocket'
import type { FastifyInstance } from 'fastify'
import type { WebSocketServer } from 'ws'

export interface WebSocketOptions {
  /** The largest message a client may send; a bigger one closes its socket with 1009. */
  readonly maxPayloadBytes: number
}

/** The close code of every socket when the server stops (RFC 6455: the endpoint is going away). */
const GOING_AWAY = 1001
/** On stop, a client that has not answered the close frame by then is cut, so `close()` never hangs on it. */
const CLOSE_GRACE_MS = 2_000

/**
 * Lets the server's routes accept WebSockets (`{ websocket: true }`, or a `wsHandler` beside the HTTP
 * `handler`): the upgrade request runs the route's hooks first, so a refusal is an ordinary HTTP answer.
 * No compression (a compressed frame's size says nothing of what it inflates to).
 */
export function acceptWebSockets(app: FastifyInstance, options: WebSocketOptions): void {
  void app.register(fastifyWebsocket, {
    options: { maxPayload: options.maxPayloadBytes, perMessageDeflate: false },
    preClose: () => closeAll(app.websocketServer),
  })
}

async function closeAll(server: WebSocketServer): Promise<void> {
  const closed = [...server.clients].map(
    (client) =>
      new Promise<void>((resolve) => {
        client.once('close', () => resolve())
        client.close(GOING_AWAY, 'the server is shutting down')
      }),
  )
  let grace: NodeJS.Timeout | undefined
  await Promise.race([
    Promise.all(closed),
    new Promise<void>((resolve) => (grace = setTimeout(resolve, CLOSE_GRACE_MS))),
  ])
  clearTimeout(grace)
  for (const client of server.clients) client.terminate()
  await new Promise<void>((resolve) => server.close(() => resolve()))
}
