import { randomUUID } from 'node:crypto'
import type { z } from 'zod'
import { formatZodIssues, systemClock, type Clock } from '../core/index.js'
import {
  CallbackHandlerSchema,
  LINK_PATH_PREFIX,
  NO_CALLBACK_HANDLER,
  MailboxResponseSchema,
  PairResponseSchema,
  TokenResponseSchema,
  type CallbackHandlerWire,
  type EnvelopesRequest,
  type MailboxResponse,
  type PairRequest,
  type PairResponse,
  type ResultRequest,
} from '../protocol/index.js'
import { LinkError } from './errors.js'

export type TokenResponse = z.infer<typeof TokenResponseSchema>
export type WireEnvelope = EnvelopesRequest['envelopes'][number]

/**
 * A party's side of the co-signer ↔ hub link (docs/cosigner-protocol.md), whatever carries it. The calls
 * after `pair` and `token` act as the party the transport authenticates (its access token).
 */
export interface LinkTransport {
  /** Exchanges a single-use pairing token for the party's refresh token, the hub's key and the clouds' keys. */
  pair(request: PairRequest): Promise<PairResponse>
  /** A fresh access token for `refreshToken`. */
  token(refreshToken: string): Promise<TokenResponse>
  /** The messages after `after`, held open by the hub until one arrives or `waitSeconds` elapse. */
  poll(after: string, waitSeconds: number, signal?: AbortSignal): Promise<MailboxResponse>
  /** Everything up to `cursor` is handled. */
  ack(cursor: string): Promise<void>
  /** At most 16 envelopes; the hub relays each with `from` set to this party. */
  send(envelopes: readonly WireEnvelope[]): Promise<void>
  postResult(result: ResultRequest): Promise<void>
  /** The party's callback handler as an Admin set it on the hub; undefined when none is set. */
  callbackHandler(): Promise<CallbackHandlerWire | undefined>
}

export interface HttpLinkTransportOptions {
  /** The hub's API base URL, e.g. https://hub.example.com (the endpoints live under /cosigner/v1/). */
  readonly hubUrl: string
  /** Needed for every call but `pair`, which sets it. */
  readonly refreshToken?: string
  readonly fetch?: typeof fetch
  readonly clock?: Clock
  /** Bound of one call, on top of a long poll's wait. */
  readonly requestTimeoutMs?: number
  /**
   * This process, as the hub knows it (sent with each poll and stream): after a restart the hub sees another
   * one, and hands the attempts the party held to another co-signer. Random by default.
   */
  readonly instance?: string
}

interface CachedToken {
  readonly value: string
  /** When to fetch the next one: four fifths into its lifetime, well before it expires. */
  readonly refreshAt: number
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000

/** `LinkTransport` over HTTP with the global `fetch`: access tokens cached and refreshed before expiry. */
export class HttpLinkTransport implements LinkTransport {
  private readonly base: string
  private readonly fetcher: typeof fetch
  private readonly clock: Clock
  private readonly timeoutMs: number
  private refreshToken: string | undefined
  private cached: CachedToken | undefined
  private refreshing: Promise<string> | undefined
  readonly instance: string

  constructor(options: HttpLinkTransportOptions) {
    this.instance = options.instance ?? randomUUID()
    this.base = `${options.hubUrl.replace(/\/+$/, '')}${LINK_PATH_PREFIX}`
    this.fetcher = options.fetch ?? ((input, init) => fetch(input, init))
    this.clock = options.clock ?? systemClock
    this.timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
    this.refreshToken = options.refreshToken
  }

  async pair(request: PairRequest): Promise<PairResponse> {
    const paired = await this.call('POST', '/pair', { body: request, schema: PairResponseSchema })
    this.refreshToken = paired.refreshToken
    this.cached = undefined
    return paired
  }

  token(refreshToken: string): Promise<TokenResponse> {
    return this.call('POST', '/token', { body: { refreshToken }, schema: TokenResponseSchema })
  }

  poll(after: string, waitSeconds: number, signal?: AbortSignal): Promise<MailboxResponse> {
    const query = new URLSearchParams({ after, wait: String(waitSeconds), instance: this.instance })
    return this.authorized('GET', `/messages?${query.toString()}`, {
      schema: MailboxResponseSchema,
      extraMs: waitSeconds * 1000,
      ...(signal === undefined ? {} : { signal }),
    })
  }

  async ack(cursor: string): Promise<void> {
    await this.authorized('POST', '/ack', { body: { cursor } })
  }

  async send(envelopes: readonly WireEnvelope[]): Promise<void> {
    await this.authorized('POST', '/envelopes', { body: { envelopes } })
  }

  async postResult(result: ResultRequest): Promise<void> {
    await this.authorized('POST', '/results', { body: result })
  }

  /**
   * The callback handler an Admin set for this party through the hub's co-signers API; undefined only when
   * the hub says none is set (code 1513) — any other failure throws, so nothing is approved by mistake.
   */
  async callbackHandler(): Promise<CallbackHandlerWire | undefined> {
    try {
      return await this.authorized('GET', '/callback', { schema: CallbackHandlerSchema })
    } catch (error) {
      if (error instanceof LinkError && error.status === 404 && error.hubCode === NO_CALLBACK_HANDLER)
        return undefined
      throw error
    }
  }

  /**
   * An access token valid for a while yet (a fresh one with `renew`: the hub refused the last); concurrent
   * callers share one refresh. What other carriers of the link (a WebSocket) authenticate with.
   */
  accessToken(options: { readonly renew?: boolean } = {}): Promise<string> {
    if (options.renew === true) this.cached = undefined
    if (this.cached !== undefined && this.clock.now() < this.cached.refreshAt)
      return Promise.resolve(this.cached.value)
    this.refreshing ??= this.refresh().finally(() => (this.refreshing = undefined))
    return this.refreshing
  }

  private async refresh(): Promise<string> {
    if (this.refreshToken === undefined)
      throw new LinkError('CS_LINK_TOKEN_REFUSED', 'no refresh token: pair this co-signer with the hub first')
    const issuedAt = this.clock.now()
    const { accessToken, expiresIn } = await this.token(this.refreshToken)
    this.cached = { value: accessToken, refreshAt: issuedAt + expiresIn * 800 }
    return accessToken
  }

  /** A call with the access token; a 401 (the hub restarted, the token expired early) refreshes it once. */
  private async authorized<T = unknown>(method: string, path: string, options: CallOptions<T>): Promise<T> {
    try {
      return await this.call(method, path, { ...options, token: await this.accessToken() })
    } catch (error) {
      if (!(error instanceof LinkError && error.status === 401)) throw error
      return this.call(method, path, { ...options, token: await this.accessToken({ renew: true }) })
    }
  }

  private async call<T = unknown>(method: string, path: string, options: CallOptions<T>): Promise<T> {
    const url = `${this.base}${path}`
    const timeout = AbortSignal.timeout(this.timeoutMs + (options.extraMs ?? 0))
    const signal = options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal])
    let response: Response
    try {
      response = await this.fetcher(url, {
        method,
        signal,
        headers: {
          accept: 'application/json',
          ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
        },
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      })
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason
      throw unreachable(url, error, timeout.aborted)
    }
    return readResponse(url, path, response, options.schema)
  }
}

interface CallOptions<T> {
  readonly body?: unknown
  readonly schema?: z.ZodType<T>
  readonly token?: string
  readonly signal?: AbortSignal
  readonly extraMs?: number
}

function unreachable(url: string, error: unknown, timedOut: boolean): LinkError {
  const why = timedOut ? 'no answer in time' : error instanceof Error ? causeOf(error) : String(error)
  return new LinkError('CS_LINK_HUB_UNREACHABLE', `the hub at ${url} is unreachable: ${why}`, {
    cause: error,
  })
}

/** fetch's own message is "fetch failed"; the socket's error (ECONNREFUSED …) is its cause. */
function causeOf(error: Error): string {
  const cause = error.cause
  if (cause instanceof Error) return (cause as NodeJS.ErrnoException).code ?? cause.message
  return error.message
}

async function readResponse<T>(
  url: string,
  path: string,
  response: Response,
  schema: z.ZodType<T> | undefined,
): Promise<T> {
  const text = await response.text().catch(() => '')
  const { status } = response
  if (status === 401 || (status === 403 && (path === '/pair' || path === '/token')))
    throw new LinkError('CS_LINK_TOKEN_REFUSED', `the hub refused the token (HTTP ${status}${said(text)})`, {
      status,
    })
  if (status >= 500 || status === 429)
    throw new LinkError('CS_LINK_HUB_UNREACHABLE', `the hub at ${url} failed: HTTP ${status}${said(text)}`, {
      status,
    })
  if (status < 200 || status >= 300)
    throw new LinkError('CS_LINK_PROTOCOL_VIOLATION', `${path} answered HTTP ${status}${said(text)}`, {
      status,
      ...hubCodeOf(text),
    })
  if (schema === undefined) return undefined as T
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new LinkError('CS_LINK_PROTOCOL_VIOLATION', `${path} answered a body that is not JSON`, {
      status,
      cause: error,
    })
  }
  const parsed = schema.safeParse(json)
  if (!parsed.success)
    throw new LinkError(
      'CS_LINK_PROTOCOL_VIOLATION',
      `${path} answered JSON of the wrong shape: ${formatZodIssues(parsed.error).slice(0, 3).join('; ')}`,
      { status, cause: parsed.error },
    )
  return parsed.data
}

function hubCodeOf(text: string): { hubCode?: number } {
  try {
    const code = (JSON.parse(text) as { code?: unknown }).code
    return typeof code === 'number' ? { hubCode: code } : {}
  } catch {
    return {}
  }
}

/** The hub's `{ message }` when it gave one, short: never the whole body. */
function said(text: string): string {
  try {
    const message = (JSON.parse(text) as { message?: unknown }).message
    return typeof message === 'string' ? `: ${message.slice(0, 200)}` : ''
  } catch {
    return ''
  }
}
