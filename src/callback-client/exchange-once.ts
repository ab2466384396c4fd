import type { KeyObject } from 'node:crypto'
import { isActionAllowed, type AuthMode, type CallbackResponse, type RequestKind } from '../protocol/index.js'
import {
  CallbackProtocolViolation,
  CallbackTransportFailure,
  type CallbackClientErrorCode,
} from './errors.js'
import { postCallback } from './post-callback.js'
import { readReply } from './read-reply.js'

/** One attempt of a call: what to send, where, and how to judge the answer. */
export interface AttemptRequest {
  readonly requestId: string
  readonly kind: RequestKind
  readonly mode: AuthMode
  readonly url: URL
  readonly contentType: string
  readonly body: string
  readonly timeoutMs: number
  readonly pin: string | undefined
  readonly ca: string | undefined
  readonly handlerPublicKey: KeyObject | undefined
  readonly signal: AbortSignal | undefined
}

/** What one attempt yields: its transcript fields, and either a valid answer or why there is none. */
export type AttemptResult =
  | { readonly exchange: ExchangeFields; readonly response: CallbackResponse; readonly error?: undefined }
  | {
      readonly exchange: ExchangeFields
      readonly error: CallbackProtocolViolation | CallbackTransportFailure
    }

export interface ExchangeFields {
  readonly durationMs: number
  readonly httpStatus?: number
  readonly response?: CallbackResponse
  readonly error?: { readonly code: CallbackClientErrorCode; readonly message: string }
}

/**
 * Sends the request once and reads the answer as a co-signer does. Anything the handler does becomes a
 * result; only an abort (the caller's signal) propagates, as the signal's reason.
 */
export async function exchangeOnce(request: AttemptRequest): Promise<AttemptResult> {
  let durationMs = 0
  try {
    const reply = await postCallback({
      url: request.url,
      body: request.body,
      contentType: request.contentType,
      timeoutMs: request.timeoutMs,
      pinnedSpkiSha256: request.pin,
      ca: request.ca,
      ...(request.signal === undefined ? {} : { signal: request.signal }),
    })
    durationMs = reply.durationMs
    const read = await readReply(reply, request.mode, request.handlerPublicKey)
    const base = { durationMs, httpStatus: reply.status }
    if (!read.ok) {
      const error =
        read.stage === 'status'
          ? new CallbackTransportFailure(`the handler ${read.reason}`, { httpStatus: reply.status })
          : new CallbackProtocolViolation(read.reason)
      return { exchange: { ...base, error: { code: error.code, message: error.message } }, error }
    }
    const violation = checkAnswer(read.response, request.requestId, request.kind)
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
