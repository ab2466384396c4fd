import type { KeyObject } from 'node:crypto'
import { isDeepStrictEqual } from 'node:util'
import { systemClock, type Clock } from '../core/index.js'
import {
  Action,
  RequestKind,
  parseConfigChangeRequest,
  parseTxRequest,
  signCallbackRequest,
  txRequestKind,
  type AuthMode,
  type CallbackRoute,
} from '../protocol/index.js'
import {
  CallbackInputInvalid,
  type CallbackProtocolViolation,
  type CallbackTransportFailure,
} from './errors.js'
import { exchangeOnce, type AttemptRequest, type ExchangeFields } from './exchange-once.js'
import { handlerUrl } from './handler-url.js'
import type { RetrySchedule, RetryScheduleStore } from './retry-schedule.js'
import { normalizeSpkiPin } from './spki-pin.js'

/** The co-signer's documented defaults (protocol.md §1.5, §4.3). */
export const CALLBACK_DEFAULTS = {
  timeoutMs: 30_000,
  retryIntervalMs: 180_000,
  maxRetries: 20,
} as const

interface CommonOptions {
  /** The BASE URL configured for the handler; the route suffix is appended. */
  readonly url: string
  readonly route: CallbackRoute
  readonly payload: Record<string, unknown>
  /** SHA-256 of the handler's TLS SPKI PEM; required in certificate mode, optional over https in JWT mode. */
  readonly pinnedSpkiSha256?: string
  /** Certificates (PEM) trusted instead of the system's CAs: a handler on a private CA or self-signed. */
  readonly trustedCa?: string
  readonly timeoutMs?: number
  readonly retry?: { readonly intervalMs?: number; readonly maxRetries?: number }
  /** Time as the retry loop sees it; tests inject one that does not wait. */
  readonly clock?: Clock
  /** Aborting cancels the request in flight and any wait between retries; the call rejects with its reason. */
  readonly signal?: AbortSignal
  /** Persists the RETRY series so that a restarted caller resumes it (see `RetryScheduleStore`). */
  readonly retryStore?: RetryScheduleStore
  /** Called after each exchange, so a caller can print progress while RETRYs are waited out. */
  readonly onExchange?: (exchange: Exchange) => void
}

export type CallHandlerOptions = CommonOptions &
  (
    | { readonly mode?: 'jwt'; readonly cosignerKey: KeyObject; readonly handlerPublicKey: KeyObject }
    | { readonly mode: 'certificate' }
  )

/** One request/answer pair. Never holds a token: transcripts are printed and logged. */
export interface Exchange extends ExchangeFields {
  readonly attempt: number
  /** Clock time the request was sent, ms since the epoch. */
  readonly sentAt: number
  readonly url: string
}

export type CallOutcome =
  | {
      readonly type: 'decided'
      readonly action: Exclude<Action, 'RETRY'>
      readonly rejectionReason?: string
    }
  /** Every attempt answered RETRY: the co-signer gives up and the request fails. */
  | { readonly type: 'retries-exhausted'; readonly attempts: number }
  | { readonly type: 'failed'; readonly error: CallbackProtocolViolation | CallbackTransportFailure }

export interface CallResult {
  readonly outcome: CallOutcome
  /** The exchanges of this call only: a resumed series starts at the attempt after the saved one. */
  readonly transcript: readonly Exchange[]
}

/**
 * Calls a callback handler exactly as a co-signer does: signs the payload with the co-signer key (or sends
 * JSON over a pinned TLS connection in certificate mode), gives each attempt `timeoutMs`, checks the
 * answer and re-sends the identical request on RETRY every `retry.intervalMs`, at most `retry.maxRetries`
 * times. With a `retryStore`, the series is saved after every RETRY and a call for a requestId whose series
 * is stored resumes it: same bytes, same URL, same schedule, next attempt number. Never throws for anything
 * the handler does; throws for unusable input (payload, URL, pin) and rejects with the signal's reason on
 * abort, leaving a stored series in place to be resumed.
 */
export async function callHandler(options: CallHandlerOptions): Promise<CallResult> {
  options.signal?.throwIfAborted()
  const kind = requestKindOf(options.route, options.payload)
  const clock = options.clock ?? systemClock
  const fresh = await freshSeries(options, clock)
  const pin = pinOf(options)
  const stored = await options.retryStore?.load(fresh.requestId)
  const series = stored === undefined ? fresh : resumable(stored, fresh)
  const request: AttemptRequest = {
    requestId: series.requestId,
    kind,
    mode: series.mode,
    url: new URL(series.url),
    contentType: series.contentType,
    body: series.body,
    timeoutMs: options.timeoutMs ?? CALLBACK_DEFAULTS.timeoutMs,
    pin,
    ca: options.trustedCa,
    handlerPublicKey: options.mode === 'certificate' ? undefined : options.handlerPublicKey,
    signal: options.signal,
  }
  const transcript: Exchange[] = []
  const end = async (outcome: CallOutcome): Promise<CallResult> => {
    await options.retryStore?.delete(series.requestId)
    return { outcome, transcript }
  }

  for (let attempt = series.attempts + 1, dueAt = series.nextAttemptAt; ; attempt += 1) {
    await waitUntil(clock, dueAt, options.signal)
    const sentAt = clock.now()
    const step = await exchangeOnce(request)
    const exchange: Exchange = { attempt, sentAt, url: series.url, ...step.exchange }
    transcript.push(exchange)
    options.onExchange?.(exchange)
    if (step.error !== undefined) return end({ type: 'failed', error: step.error })
    const { action, rejectionReason } = step.response
    if (action !== Action.retry) {
      return end(
        rejectionReason === undefined
          ? { type: 'decided', action }
          : { type: 'decided', action, rejectionReason },
      )
    }
    if (attempt > series.maxRetries) return end({ type: 'retries-exhausted', attempts: attempt })
    dueAt = clock.now() + series.intervalMs
    await options.retryStore?.save({ ...series, attempts: attempt, nextAttemptAt: dueAt })
  }
}

/** The series a first call starts: nothing sent yet, the first attempt due now. */
async function freshSeries(options: CallHandlerOptions, clock: Clock): Promise<RetrySchedule> {
  const mode: AuthMode = options.mode ?? 'jwt'
  const url = handlerUrl(options.url, mode, options.route)
  // A RETRY re-sends the identical request: the same bytes, signed once.
  const body =
    options.mode === 'certificate'
      ? JSON.stringify(options.payload)
      : await signCallbackRequest(options.payload, options.cosignerKey)
  return {
    requestId: String(options.payload.requestId),
    route: options.route,
    mode,
    url: url.href,
    contentType: mode === 'jwt' ? 'text/plain' : 'application/json',
    body,
    payload: options.payload,
    intervalMs: options.retry?.intervalMs ?? CALLBACK_DEFAULTS.retryIntervalMs,
    maxRetries: options.retry?.maxRetries ?? CALLBACK_DEFAULTS.maxRetries,
    attempts: 0,
    nextAttemptAt: clock.now(),
  }
}

/** A stored series resumes only for the very same request; anything else is a caller's mistake. */
function resumable(stored: RetrySchedule, fresh: RetrySchedule): RetrySchedule {
  const differs = (
    [
      ['route', stored.route !== fresh.route],
      ['mode', stored.mode !== fresh.mode],
      ['payload', !isDeepStrictEqual(stored.payload, fresh.payload)],
    ] as const
  ).filter(([, different]) => different)
  if (differs.length > 0) {
    throw new CallbackInputInvalid(
      `a RETRY series for requestId "${stored.requestId}" is stored with another ${differs.map(([name]) => name).join(' and ')}; ` +
        'a retried request must be identical: send this one under a new requestId, or delete the stored series',
    )
  }
  return stored
}

function pinOf(options: CallHandlerOptions): string | undefined {
  const pin = options.pinnedSpkiSha256 === undefined ? undefined : normalizeSpkiPin(options.pinnedSpkiSha256)
  if (options.mode === 'certificate' && pin === undefined) {
    throw new CallbackInputInvalid('certificate mode needs the pinned SHA-256 of the handler TLS key')
  }
  return pin
}

async function waitUntil(clock: Clock, dueAt: number, signal: AbortSignal | undefined): Promise<void> {
  const ms = dueAt - clock.now()
  if (ms > 0) await clock.sleep(ms, signal)
  signal?.throwIfAborted()
}

/** The payload is validated as a co-signer would only ever send a valid one; `PayloadInvalid` otherwise. */
function requestKindOf(route: CallbackRoute, payload: Record<string, unknown>): RequestKind {
  if (route === 'config') {
    parseConfigChangeRequest(payload)
    return RequestKind.configChange
  }
  return txRequestKind(parseTxRequest(payload))
}
