import { AckFrameSchema, LINK_CLOSE_CODES, type MailboxResponse } from '../../protocol/index.js'
import type { ServiceWebSocket } from '../../service/index.js'
import type { LinkParty } from '../../storage/index.js'
import { HubApiError } from '../rest/api-error.js'

/** What a pushed mailbox needs of the hub's link (`LinkHub`). */
export interface StreamSource {
  authenticate(authorization: string | undefined): Promise<LinkParty>
  follow(
    party: string,
    after: number,
    signal: AbortSignal,
    instance: string | null,
  ): AsyncIterable<MailboxResponse['messages']>
  ack(party: string, cursor: number): Promise<void>
  heartbeat(party: string, instance: string | null): Promise<void>
  /** The party closed its socket with 1000: it stops. */
  leave(party: string): Promise<void>
}

/** A party whose upgrade request was authenticated, and where its stream starts. */
export interface StreamClient {
  readonly party: string
  /** Its `Authorization` header: checked again before each push, ack and ping, as each HTTP call is. */
  readonly authorization: string
  readonly after: number
  /** The party's process, as it named itself (null when it did not). */
  readonly instance: string | null
}

export interface StreamLog {
  error(fields: object, message: string): void
}

/**
 * Serves one party's WebSocket (docs/cosigner-protocol.md, "Push over a WebSocket"): pushes each mailbox
 * message as a `{ cursor, message }` frame, applies its `{ ack }` frames, pings every `heartbeatMs` (each
 * pong is a heartbeat), cuts a peer whose pongs stopped for two intervals and records a party that closes
 * with 1000 as gone. It closes with 4401 once the
 * access token no longer authenticates the party (expired, revoked, enrolled again).
 */
export function serveStream(
  socket: ServiceWebSocket,
  source: StreamSource,
  client: StreamClient,
  options: { readonly heartbeatMs: number; readonly log?: StreamLog },
): void {
  const ended = new AbortController()
  const close = (code: number, reason: string) => {
    // A close reason is at most 123 bytes (RFC 6455 §5.5); ours are ASCII.
    if (socket.readyState === socket.OPEN) socket.close(code, reason.slice(0, 123))
  }
  const fail = (error: unknown) => {
    if (ended.signal.aborted) return
    if (error instanceof HubApiError && error.statusCode === 401)
      return close(LINK_CLOSE_CODES.accessEnded, error.message)
    options.log?.error({ err: error, party: client.party }, 'the co-signer link stream failed')
    close(LINK_CLOSE_CODES.hubFailed, 'the hub failed: reconnect later')
  }
  const authenticated = () => source.authenticate(client.authorization)

  const push = async () => {
    for await (const batch of source.follow(client.party, client.after, ended.signal, client.instance)) {
      await authenticated()
      for (const item of batch) await send(socket, JSON.stringify(item))
    }
    close(LINK_CLOSE_CODES.goingAway, 'the hub is shutting down')
  }

  // binaryType is 'nodebuffer': each message is one Buffer.
  const onFrame = async (data: Buffer, isBinary: boolean) => {
    const frame = isBinary ? undefined : AckFrameSchema.safeParse(parseJson(data.toString('utf8')))
    if (frame?.success !== true) return close(LINK_CLOSE_CODES.badFrame, 'expected {"ack": "<cursor>"}')
    await authenticated()
    await source.ack(client.party, Number(frame.data.ack))
  }

  let lastPong = Date.now()
  const beat = async () => {
    if (Date.now() - lastPong > 2 * options.heartbeatMs) return void socket.terminate()
    await authenticated()
    socket.ping()
  }
  const heartbeats = setInterval(() => void beat().catch(fail), options.heartbeatMs)

  socket.on('message', (data, isBinary) => void onFrame(data as Buffer, isBinary).catch(fail))
  socket.on('pong', () => {
    lastPong = Date.now()
    void source.heartbeat(client.party, client.instance).catch(fail)
  })
  socket.once('close', (code: number) => {
    ended.abort()
    clearInterval(heartbeats)
    // 1000 is the party's goodbye (the hub never sends it); any other end may be a reconnect or a crash.
    if (code === LINK_CLOSE_CODES.done)
      void source.leave(client.party).catch((error: unknown) => {
        options.log?.error({ err: error, party: client.party }, 'could not record that the co-signer left')
      })
  })
  void push().catch(fail)
}

function send(socket: ServiceWebSocket, text: string): Promise<void> {
  return new Promise((resolve, reject) => socket.send(text, (error) => (error ? reject(error) : resolve())))
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
