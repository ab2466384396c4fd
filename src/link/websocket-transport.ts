import { systemClock, type Clock } from '../core/index.js'
import {
  LINK_CLOSE_CODES,
  LINK_STREAM_PATH,
  type CallbackHandlerWire,
  type MailboxResponse,
  type PairRequest,
  type PairResponse,
  type ResultRequest,
} from '../protocol/index.js'
import { LinkError } from './errors.js'
import { MailboxSocket, type SocketEnd } from './mailbox-socket.js'
import type { LinkLogger } from './party-runner.js'
import {
  DEFAULT_REQUEST_TIMEOUT_MS,
  HttpLinkTransport,
  type HttpLinkTransportOptions,
  type LinkTransport,
  type TokenResponse,
  type WireEnvelope,
} from './transport.js'

export interface WebSocketLinkTransportOptions extends HttpLinkTransportOptions {
  /** Closes the WebSocket for good when it aborts (the party stops). */
  readonly signal?: AbortSignal
  /** Where each switch between the WebSocket and long-poll is logged, with its cause. */
  readonly log?: LinkLogger
  /** WebSocket failures in a row (each while HTTP worked) after which the party long-polls. */
  readonly failuresBeforeFallback?: number
  /** How long the party long-polls before it tries the WebSocket again. */
  readonly fallbackMs?: number
  /** A socket open this long has proven the path: its failures are forgotten, its end is not one. */
  readonly stableMs?: number
  /** Nothing heard from the hub (a frame or a ping, sent every 15 s) for this long: the socket is cut. */
  readonly silenceMs?: number
}

const DEFAULTS = {
  failuresBeforeFallback: 3,
  fallbackMs: 5 * 60_000,
  stableMs: 30_000,
  silenceMs: 45_000,
}
const silent: LinkLogger = { info: () => undefined, warn: () => undefined, error: () => undefined }

/**
 * `LinkTransport` with the mailbox pushed over a WebSocket (docs/cosigner-protocol.md, "Push over a
 * WebSocket"), outbound like the rest: `poll` is served from the frames pushed on the open socket and `ack`
 * is a frame; pairing, tokens, envelopes and results go over HTTP. The socket opens from the cursor asked
 * (the last one acknowledged), so a reconnect loses nothing and repeats nothing the party has handled.
 *
 * A WebSocket that cannot be opened, or is cut before it proved stable, costs nothing: that poll goes over
 * HTTP long-poll. When that keeps happening while HTTP works (a proxy that refuses or kills WebSockets),
 * the party long-polls for `fallbackMs`, then tries the WebSocket again. Reconnecting after the hub is
 * unreachable is left to the caller's backoff (PartyRunner's, with jitter): the poll fails as over HTTP.
 */
export class WebSocketLinkTransport implements LinkTransport {
  private readonly http: HttpLinkTransport
  private readonly streamUrl: string
  private readonly clock: Clock
  private readonly log: LinkLogger
  private readonly settings: typeof DEFAULTS
  private readonly timeoutMs: number
  private readonly lifetime: AbortSignal | undefined
  private socket: MailboxSocket | undefined
  private failures = 0
  private longPollUntil = 0
  private pushing = false
  private renewToken = false

  constructor(options: WebSocketLinkTransportOptions) {
    this.http = new HttpLinkTransport(options)
    this.streamUrl = `${options.hubUrl.replace(/\/+$/, '').replace(/^http/, 'ws')}${LINK_STREAM_PATH}`
    this.clock = options.clock ?? systemClock
    this.log = options.log ?? silent
    this.settings = {
      failuresBeforeFallback: options.failuresBeforeFallback ?? DEFAULTS.failuresBeforeFallback,
      fallbackMs: options.fallbackMs ?? DEFAULTS.fallbackMs,
      stableMs: options.stableMs ?? DEFAULTS.stableMs,
      silenceMs: options.silenceMs ?? DEFAULTS.silenceMs,
    }
    this.timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
    this.lifetime = options.signal
    this.lifetime?.addEventListener('abort', () => this.drop(LINK_CLOSE_CODES.done, 'the party stopped'), {
      once: true,
    })
  }

  pair(request: PairRequest): Promise<PairResponse> {
    return this.http.pair(request)
  }

  token(refreshToken: string): Promise<TokenResponse> {
    return this.http.token(refreshToken)
  }

  async poll(after: string, waitSeconds: number, signal?: AbortSignal): Promise<MailboxResponse> {
    if (this.lifetime?.aborted === true || this.clock.now() < this.longPollUntil)
      return this.http.poll(after, waitSeconds, signal)
    let failure: LinkError
    try {
      return await this.pollSocket(Number(after), waitSeconds * 1000, signal)
    } catch (error) {
      if (!(error instanceof LinkError && error.code === 'CS_LINK_WEBSOCKET_FAILED')) throw error
      failure = error
    }
    // When HTTP fails too, the hub is unreachable: the caller backs off, and the WebSocket is not to blame.
    const answer = await this.http.poll(after, waitSeconds, signal)
    this.blame(failure)
    return answer
  }

  async ack(cursor: string): Promise<void> {
    // Over the socket while it is open; over HTTP when it is not, or the frame could not be written.
    const sent = await this.socket?.ack(cursor).then(
      () => true,
      () => false,
    )
    if (sent !== true) await this.http.ack(cursor)
  }

  send(envelopes: readonly WireEnvelope[]): Promise<void> {
    return this.http.send(envelopes)
  }

  postResult(result: ResultRequest): Promise<void> {
    return this.http.postResult(result)
  }

  callbackHandler(): Promise<CallbackHandlerWire | undefined> {
    return this.http.callbackHandler()
  }

  /** The frames after `after` from the open socket (opened from `after` when there is none). */
  private async pollSocket(after: number, waitMs: number, signal?: AbortSignal): Promise<MailboxResponse> {
    const socket = await this.socketFrom(after, signal)
    const frames = await socket.take(after, waitMs, signal)
    if (socket.openMs >= this.settings.stableMs) this.failures = 0
    if (frames !== undefined) return { messages: frames, cursor: frames.at(-1)?.cursor ?? String(after) }
    this.socket = undefined
    const end = socket.end as SocketEnd
    if (end.code === LINK_CLOSE_CODES.accessEnded) this.renewToken = true
    else if (end.openMs < this.settings.stableMs)
      throw new LinkError(
        'CS_LINK_WEBSOCKET_FAILED',
        `the WebSocket to the hub closed after ${end.openMs} ms (${end.code}${end.reason === '' ? '' : `: ${end.reason}`})`,
      )
    // Not a failure: the next poll opens a new socket at once.
    return { messages: [], cursor: String(after) }
  }

  /**
   * The current socket (ended, it still hands out what it received, then says how it ended), unless the
   * caller asks for messages it already delivered: then a new one from `after`, as when there is none.
   */
  private async socketFrom(after: number, signal?: AbortSignal): Promise<MailboxSocket> {
    const current = this.socket
    if (current !== undefined && after >= current.position) return current
    this.drop(LINK_CLOSE_CODES.done, 'reopening from an earlier cursor')
    this.socket = await this.open(after, signal)
    if (!this.pushing) this.log.info({ hub: this.streamUrl }, 'the hub pushes the mailbox over a WebSocket')
    this.pushing = true
    return this.socket
  }

  /** Opens the stream with the current access token; a 401 renews it once, a second one refuses the party. */
  private async open(after: number, signal?: AbortSignal): Promise<MailboxSocket> {
    const url = `${this.streamUrl}?after=${after}&instance=${this.http.instance}`
    const options = { handshakeTimeoutMs: this.timeoutMs, silenceMs: this.settings.silenceMs }
    const attempt = async (renew: boolean) =>
      MailboxSocket.open(url, await this.http.accessToken({ renew }), after, options, signal)
    const renew = this.renewToken
    this.renewToken = false
    try {
      return await attempt(renew)
    } catch (error) {
      if (!isRefusedUpgrade(error)) throw error
    }
    try {
      return await attempt(true)
    } catch (error) {
      if (!isRefusedUpgrade(error)) throw error
      throw new LinkError('CS_LINK_TOKEN_REFUSED', 'the hub refused the token (HTTP 401 to the WebSocket)', {
        status: 401,
        cause: error,
      })
    }
  }

  /** A WebSocket failure while HTTP works: after a few in a row, long-poll for a while. */
  private blame(failure: LinkError): void {
    this.failures++
    if (this.failures < this.settings.failuresBeforeFallback) {
      this.log.warn(
        { err: failure, failures: this.failures },
        'the WebSocket failed: this poll went over HTTP',
      )
      return
    }
    this.longPollUntil = this.clock.now() + this.settings.fallbackMs
    this.pushing = false
    this.log.warn(
      { err: failure, failures: this.failures, retryInMs: this.settings.fallbackMs },
      'WebSockets do not get through to the hub: long-polling instead',
    )
  }

  private drop(code: number, reason: string): void {
    this.socket?.close(code, reason)
    this.socket = undefined
  }
}

/** The hub refused the upgrade's access token (as opposed to refusing the refresh token: that is final). */
function isRefusedUpgrade(error: unknown): boolean {
  return error instanceof LinkError && error.code === 'CS_LINK_WEBSOCKET_FAILED' && error.status === 401
}
