import type { KeyObject } from 'node:crypto'
import { systemClock, type Clock } from '../core/index.js'
import {
  Action,
  RequestKind,
  isActionAllowed,
  parseConfigChangeRequest,
  parseTxRequest,
  signCallbackRequest,
  txRequestKind,
  type AuthMode,
  type CallbackResponse,
  type CallbackRoute,
} from '../protocol/index.js'
import {
  CallbackInputInvalid,
  CallbackProtocolViolation,
  CallbackTransportFailure,
  type CallbackClientErrorCode,
} from './errors.js'
import { handlerUrl } from './handler-url.js'
import { postCallback } from './post-callback.js'
import { readReply } from './read-reply.js'
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
  readonly timeoutMs?: number
  readonly retry?: { readonly intervalMs?: number; readonly maxRetries?: number }
  /** Time as the retry loop sees it; tests inject one that does not wait. */
  readonly clock?: Clock
  /** Called after each exchange, so a caller can print progress while RETRYs are waited out. */
  readonly onExchange?: (exchange: Exchange) => void
}

export type CallHandlerOptions = CommonOptions &
  (
    | { readonly mode?: 'jwt'; readonly cosignerKey: KeyObject; readonly handlerPublicKey: KeyObject }
    | { readonly mode: 'certificate' }
  )

/** One request/answer pair. Never holds a token: transcripts are printed and logged. */
export interface Exchange {
  readonly attempt: number
  /** Clock time the request was sent, ms since the epoch. */
  readonly sentAt: number
  readonly url: string
  readonly durationMs: number
  readonly httpStatus?: number
  readonly response?: CallbackResponse
  readonly error?: { readonly code: CallbackClientErrorCode; readonly message: string }
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
  readonly transcript: readonly Exchange[]
}

/**
 * Calls a callback handler exactly as a co-signer does: signs the payload with the co-signer key (or sends
 * JSON over a pinned TLS connection in certificate mode), gives each attempt `timeoutMs`, checks the
 * answer and re-sends the identical request on RETRY every `retry.intervalMs`, at most `retry.maxRetries`
 * times. Never throws for anything the handler does; throws only for unusable input (payload, URL, pin).
 */
export async function callHandler(options: CallHandlerOptions): Promise<CallResult> {
  const mode: AuthMode = options.mode ?? 'jwt'
  const kind = requestKindOf(options.route, options.payload)
  const url = handlerUrl(options.url, mode, options.route)
  const pin = options.pinnedSpkiSha256 === undefined ? undefined : normalizeSpkiPin(options.pinnedSpkiSha256)
  if (mode === 'certificate' && pin === undefined) {
    throw new CallbackInputInvalid('certificate mode needs the pinned SHA-256 of the handler TLS key')
  }
  const clock = options.clock ?? systemClock
  const timeoutMs = options.timeoutMs ?? CALLBACK_DEFAULTS.timeoutMs
  const intervalMs = options.retry?.intervalMs ?? CALLBACK_DEFAULTS.retryIntervalMs
  const maxRetries = options.retry?.maxRetries ?? CALLBACK_DEFAULTS.maxRetries
  const requestId = String(options.payload.requestId)
  // A RETRY re-sends the identical request: the same bytes, signed once.
  const body =
    options.mode === 'certificate'
      ? JSON.stringify(options.payload)
      : await signCallbackRequest(options.payload, options.cosignerKey)
  const handlerPublicKey = options.mode === 'certificate' ? undefined : options.handlerPublicKey
  const transcript: Exchange[] = []

  for (let attempt = 1; ; attempt += 1) {
    const sentAt = clock.now()
    const step = await attemptOnce()
    const exchange: Exchange = { attempt, sentAt, url: url.href, ...step.exchange }
    transcript.push(exchange)
    options.onExchange?.(exchange)
    if (step.error !== undefined) return { outcome: { type: 'failed', error: step.error }, transcript }
    const response = step.response
    if (response.action !== Action.retry) {
      const decided = { type: 'decided', action: response.action } as const
      return {
        outcome:
          response.rejectionReason === undefined
            ? decided
            : { ...decided, rejectionReason: response.rejectionReason },
        transcript,
      }
    }
    if (attempt > maxRetries) return { outcome: { type: 'retries-exhausted', attempts: attempt }, transcript }
    await clock.sleep(intervalMs)
  }

  async function attemptOnce(): Promise<
    | {
        exchange: Omit<Exchange, 'attempt' | 'sentAt' | 'url'>
        response: CallbackResponse
        error?: undefined
      }
    | {
        exchange: Omit<Exchange, 'attempt' | 'sentAt' | 'url'>
        error: CallbackProtocolViolation | CallbackTransportFailure
      }
  > {
    let durationMs = 0
    try {
      const reply = await postCallback({
        url,
        body,
        contentType: mode === 'jwt' ? 'text/plain' : 'application/json',
        timeoutMs,
        pinnedSpkiSha256: pin,
      })
      durationMs = reply.durationMs
      const read = await readReply(reply, mode, handlerPublicKey)
      const base = { durationMs, httpStatus: reply.status }
      if (!read.ok) {
        const error =
          read.stage === 'status'
            ? new CallbackTransportFailure(`the handler ${read.reason}`, { httpStatus: reply.status })
            : new CallbackProtocolViolation(read.reason)
        return { exchange: { ...base, error: { code: error.code, message: error.message } }, error }
      }
      const violation = checkAnswer(read.response, requestId, kind)
      if (violation !== undefined) {
        return {
          exchange: {
            ...base,
            response: read.response,
            error: { code: violation.code, message: violation.message },
          },
          error: violation,
        }
      }
      return { exchange: { ...base, response: read.response }, response: read.response }
    } catch (error) {
      if (!(error instanceof CallbackTransportFailure)) throw error
      return { exchange: { durationMs, error: { code: error.code, message: error.message } }, error }
    }
  }
}

function checkAnswer(
  response: CallbackResponse,
  requestId: string,
  kind: RequestKind,
): CallbackProtocolViolation | undefined {
  if (response.requestId !== requestId) {
    return new CallbackProtocolViolation(
      `the answer names requestId "${response.requestId}", not the "${requestId}" that was sent`,
    )
  }
  if (!isActionAllowed(kind, response.action)) {
    return new CallbackProtocolViolation(`${response.action} is not a valid answer to a ${kind} request`)
  }
  return undefined
}

/** The payload is validated as a co-signer would only ever send a valid one; `PayloadInvalid` otherwise. */
function requestKindOf(route: CallbackRoute, payload: Record<string, unknown>): RequestKind {
  if (route === 'config') {
    parseConfigChangeRequest(payload)
    return RequestKind.configChange
  }
  return txRequestKind(parseTxRequest(payload))
}
