import WebSocket from 'ws'
import {
  LINK_CLOSE_CODES,
  LINK_MAX_FRAME_BYTES,
  StreamFrameSchema,
  type StreamFrame,
} from '../protocol/index.js'
import { LinkError } from './errors.js'

/** How a socket ended: the close code and reason it got (1006 when cut without one), and how long it lived. */
export interface SocketEnd {
  readonly code: number
  readonly reason: string
  readonly openMs: number
}

export interface MailboxSocketOptions {
  /** Bound of the upgrade, from the TCP connection to the 101. */
  readonly handshakeTimeoutMs: number
  /** Nothing heard from the hub (a frame or a ping) for this long: it, or the path to it, is gone. */
  readonly silenceMs: number
}

/** After a close frame, how long the hub gets to answer it before the socket is cut. */
const CLOSE_GRACE_MS = 1_000

/**
 * One WebSocket to the hub's pushed mailbox (docs/cosigner-protocol.md, "Push over a WebSocket"): the
 * frames received and not yet taken, the cursor reached, and, once it ended, how.
 */
export class MailboxSocket {
  /** The cursor of the last frame taken, or the one the stream started after. */
  position: number
  #end: SocketEnd | undefined
  readonly #openedAt = Date.now()
  readonly #socket: WebSocket
  readonly #frames: StreamFrame[] = []
  readonly #waiters = new Set<() => void>()

  /**
   * Opens the stream of messages after `after`. Rejects with CS_LINK_WEBSOCKET_FAILED when the upgrade
   * fails (its `status` when the hub, or a proxy, answered with another HTTP status than 101), and with
   * the signal's reason when it aborts.
   */
  static open(
    url: string,
    accessToken: string,
    after: number,
    options: MailboxSocketOptions,
    signal?: AbortSignal,
  ): Promise<MailboxSocket> {
    signal?.throwIfAborted()
    const socket = new WebSocket(url, {
      headers: { authorization: `Bearer ${accessToken}` },
      maxPayload: LINK_MAX_FRAME_BYTES,
      perMessageDeflate: false,
      handshakeTimeout: options.handshakeTimeoutMs,
    })
    return new Promise((resolve, reject) => {
      const abort = () => socket.terminate()
      signal?.addEventListener('abort', abort, { once: true })
      const settled = () => signal?.removeEventListener('abort', abort)
      socket.once('open', () => {
        settled()
        resolve(new MailboxSocket(socket, after, options))
      })
      socket.once('unexpected-response', (request, response) => {
        settled()
        response.resume()
        request.destroy()
        const status = response.statusCode ?? 0
        reject(failed(`the hub answered the WebSocket upgrade with HTTP ${status}`, { status }))
      })
      // Before the upgrade, the reason it failed; after it, `close` follows and says how the socket ended.
      socket.on('error', (error) => {
        settled()
        reject(
          signal?.aborted
            ? signal.reason
            : failed(`no WebSocket to ${url.split('?')[0]}: ${causeOf(error)}`, { cause: error }),
        )
      })
    })
  }

  private constructor(socket: WebSocket, after: number, options: MailboxSocketOptions) {
    this.#socket = socket
    this.position = after
    const silence = setTimeout(() => socket.terminate(), options.silenceMs)
    socket.on('ping', () => silence.refresh())
    socket.on('message', (data, isBinary) => {
      silence.refresh()
      // binaryType is 'nodebuffer': each message is one Buffer.
      this.#receive(isBinary ? undefined : (data as Buffer).toString('utf8'))
    })
    socket.once('close', (code, reason) => {
      clearTimeout(silence)
      this.#end = { code, reason: reason.toString(), openMs: this.openMs }
      this.#wakeAll()
    })
  }

  get end(): SocketEnd | undefined {
    return this.#end
  }

  /** How long the socket has been open (was, once it ended). */
  get openMs(): number {
    return this.#end?.openMs ?? Date.now() - this.#openedAt
  }

  /**
   * The frames after `after`, waiting up to `waitMs` for one: `[]` when none came, `undefined` when the
   * socket ended with none left to take.
   */
  async take(after: number, waitMs: number, signal?: AbortSignal): Promise<StreamFrame[] | undefined> {
    this.#discardThrough(after)
    if (this.#frames.length === 0 && this.#end === undefined) await this.#arrival(waitMs, signal)
    this.#discardThrough(after)
    const taken = this.#frames.splice(0)
    const last = taken.at(-1)
    if (last === undefined) return this.#end === undefined ? [] : undefined
    this.position = Number(last.cursor)
    return taken
  }

  /** Sends `{ ack: cursor }`; resolves once it is written, rejects when the socket is no longer open. */
  ack(cursor: string): Promise<void> {
    return new Promise((resolve, reject) =>
      this.#socket.send(JSON.stringify({ ack: cursor }), (error) => (error ? reject(error) : resolve())),
    )
  }

  close(code: number, reason: string): void {
    this.#socket.close(code, reason)
    setTimeout(() => this.#socket.terminate(), CLOSE_GRACE_MS).unref()
  }

  #receive(text: string | undefined): void {
    const frame = text === undefined ? undefined : StreamFrameSchema.safeParse(parseJson(text))
    if (frame?.success !== true)
      return this.#socket.close(LINK_CLOSE_CODES.badFrame, 'expected {"cursor", "message"}')
    this.#frames.push(frame.data)
    this.#wakeAll()
  }

  #discardThrough(after: number): void {
    while (this.#frames[0] !== undefined && Number(this.#frames[0].cursor) <= after) this.#frames.shift()
  }

  #arrival(ms: number, signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted()
    return new Promise((resolve, reject) => {
      const stopWaiting = () => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', aborted)
        this.#waiters.delete(arrived)
      }
      const arrived = () => {
        stopWaiting()
        resolve()
      }
      const aborted = () => {
        stopWaiting()
        reject(signal?.reason as Error)
      }
      const timer = setTimeout(arrived, Math.max(0, ms))
      this.#waiters.add(arrived)
      signal?.addEventListener('abort', aborted, { once: true })
    })
  }

  #wakeAll(): void {
    for (const wake of [...this.#waiters]) wake()
  }
}

function failed(message: string, options: { status?: number; cause?: unknown }): LinkError {
  return new LinkError('CS_LINK_WEBSOCKET_FAILED', message, options)
}

/** The socket's own error code (ECONNREFUSED, ECONNRESET...) when it has one. */
function causeOf(error: Error): string {
  return (error as NodeJS.ErrnoException).code ?? error.message
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
