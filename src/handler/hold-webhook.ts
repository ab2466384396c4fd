import { createHmac } from 'node:crypto'
import type { Logger } from 'pino'
import type { Clock } from '../core/index.js'

/**
 * Announces new holds to the operators' systems (chat, paging) on signed webhooks: a compact JSON event,
 * POSTed in the background so that delivery never delays the co-signer's answer, retried with exponential
 * backoff, and signed like Stripe's webhooks so a receiver can tell it from a forgery and a stale replay
 * (docs/handler.md, "Hold webhooks").
 */

export interface WebhookTarget {
  readonly url: string
  /** The HMAC key; never logged. */
  readonly secret: string
}

export interface HoldCreatedEvent {
  readonly type: 'hold.created'
  readonly requestId: string
  readonly route: string
  readonly kind: string
  readonly amountUsd: number | null
  readonly asset: string | null
  readonly source: string | null
  readonly destination: string | null
  readonly ruleId: string | null
  readonly reason: string | null
  readonly quorum: number
  readonly approvers: readonly string[]
  readonly expiresAt: string
  readonly createdAt: string
}

/** What the pipeline needs: announcing never throws and returns at once. */
export interface HoldAnnouncer {
  announce(event: HoldCreatedEvent): void
}

const TIMESTAMP_HEADER = 'X-Countersign-Timestamp'
const SIGNATURE_HEADER = 'X-Countersign-Signature'

/** `v1=` and the hex HMAC-SHA256 of `<timestamp>.<raw body>` keyed with the secret. */
function signWebhookBody(secret: string, timestampSeconds: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex')}`
}

export interface HoldWebhookOptions {
  readonly targets: readonly WebhookTarget[]
  readonly log: Logger
  readonly clock: Clock
  readonly fetch?: typeof fetch
  /** Attempts per event and target, the first included. */
  readonly maxAttempts?: number
  /** The wait before the second attempt; each later wait doubles it. */
  readonly firstRetryMs?: number
  /** An attempt the receiver has not answered by then counts as failed. */
  readonly attemptTimeoutMs?: number
}

const DEFAULTS = { maxAttempts: 5, firstRetryMs: 1000, attemptTimeoutMs: 10_000 }

/** Where a webhook goes, fit for a log line: the origin only (the path of many webhook URLs is a token). */
function originOf(url: string): string {
  try {
    return new URL(url).origin
  } catch {
    return 'an unreadable URL'
  }
}

/** `fetch failed (ECONNREFUSED)`: undici hides the cause of a network error in `cause`. */
function failureOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const code = (error.cause as { code?: unknown } | undefined)?.code
  return typeof code === 'string' ? `${error.message} (${code})` : error.message
}

export class HoldWebhook implements HoldAnnouncer {
  readonly #options: HoldWebhookOptions & typeof DEFAULTS
  readonly #fetch: typeof fetch
  readonly #shutdown = new AbortController()
  readonly #deliveries = new Set<Promise<void>>()

  constructor(options: HoldWebhookOptions) {
    this.#options = { ...DEFAULTS, ...options }
    this.#fetch = options.fetch ?? fetch
  }

  announce(event: HoldCreatedEvent): void {
    if (this.#shutdown.signal.aborted) return
    const body = JSON.stringify(event)
    for (const target of this.#options.targets) {
      const delivery = this.#deliver(target, event.requestId, body).finally(() =>
        this.#deliveries.delete(delivery),
      )
      this.#deliveries.add(delivery)
    }
  }

  /** Stops retrying and aborts attempts under way; resolves once every delivery has stopped. */
  async close(): Promise<void> {
    this.#shutdown.abort(new Error('the handler is shutting down'))
    await Promise.allSettled([...this.#deliveries])
  }

  async #deliver(target: WebhookTarget, requestId: string, body: string): Promise<void> {
    const { maxAttempts, firstRetryMs, clock, log } = this.#options
    for (let attempt = 1; ; attempt++) {
      const failure = await this.#attempt(target, body)
      if (failure === undefined || this.#shutdown.signal.aborted) return
      const retryInMs = attempt < maxAttempts ? firstRetryMs * 2 ** (attempt - 1) : undefined
      log.warn(
        { webhook: originOf(target.url), requestId, attempt, failure, retryInMs },
        retryInMs === undefined
          ? 'hold webhook delivery failed: giving up'
          : 'hold webhook delivery failed: retrying',
      )
      if (retryInMs === undefined) return
      try {
        await clock.sleep(retryInMs, this.#shutdown.signal)
      } catch {
        return
      }
    }
  }

  /** One POST; the reason it failed, or `undefined` when the receiver answered 2xx. */
  async #attempt(target: WebhookTarget, body: string): Promise<string | undefined> {
    const { clock, attemptTimeoutMs } = this.#options
    const timestamp = Math.floor(clock.now() / 1000)
    const timeout = new AbortController()
    const timer = clock.setTimer(attemptTimeoutMs, () =>
      timeout.abort(new Error(`no answer within ${attemptTimeoutMs} ms`)),
    )
    try {
      const response = await this.#fetch(target.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [TIMESTAMP_HEADER]: String(timestamp),
          [SIGNATURE_HEADER]: signWebhookBody(target.secret, timestamp, body),
        },
        body,
        // A redirect would resend the signed event somewhere nobody configured.
        redirect: 'manual',
        signal: AbortSignal.any([this.#shutdown.signal, timeout.signal]),
      })
      await response.body?.cancel()
      return response.ok ? undefined : `HTTP ${response.status}`
    } catch (error) {
      return timeout.signal.aborted ? failureOf(timeout.signal.reason) : failureOf(error)
    } finally {
      timer.cancel()
    }
  }
}
