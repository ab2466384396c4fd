import { CountersignError, defineErrorCodes } from '../core/index.js'

/** The codes of the callback client (what a co-signer does when it calls a handler). */
export const CALLBACK_CLIENT_ERRORS = defineErrorCodes('callback-client', {
  CS_CALLBACK_PROTOCOL: {
    meaning:
      'a callback handler answered something the protocol does not allow (unsigned, wrong action, bad JSON)',
    fix: 'check the handler against protocol.md: countersign conformance names the failing check',
  },
  CS_CALLBACK_TRANSPORT: {
    meaning:
      'a callback handler could not be reached, timed out, answered a non-200 status or failed the TLS pin',
    fix: 'check the handler URL, that it is running, and the pinned SPKI fingerprint',
  },
  CS_CALLBACK_INPUT: {
    meaning: 'the request given to the callback client is invalid (payload, URL or options)',
    fix: 'fix the input named in the message',
  },
})

export type CallbackClientErrorCode = keyof typeof CALLBACK_CLIENT_ERRORS.codes

/**
 * The handler answered, but not as the contract says: a response that is not an RS256 JWT signed by the
 * registered handler key, inexact claim names, a `requestId` that is not the one sent, or IGNORE on a
 * signing request. A co-signer treats any of these as a failed request, never as an approval.
 */
export class CallbackProtocolViolation extends CountersignError {
  readonly code = 'CS_CALLBACK_PROTOCOL' satisfies CallbackClientErrorCode
}

/**
 * No usable HTTP answer: the handler could not be reached, TLS failed or its key did not match the pin,
 * no answer came within the deadline, or it answered with a status other than 200 (`httpStatus`).
 */
export class CallbackTransportFailure extends CountersignError {
  readonly code = 'CS_CALLBACK_TRANSPORT' satisfies CallbackClientErrorCode
  readonly httpStatus: number | undefined
  /** True when the deadline passed before a full answer arrived. */
  readonly timedOut: boolean
  /** True when the handler's TLS key did not match the pin (nothing was sent). */
  readonly pinMismatch: boolean

  constructor(
    message: string,
    options?: ErrorOptions & { httpStatus?: number; timedOut?: boolean; pinMismatch?: boolean },
  ) {
    super(message, options)
    this.httpStatus = options?.httpStatus
    this.timedOut = options?.timedOut ?? false
    this.pinMismatch = options?.pinMismatch ?? false
  }
}

/** Input the client cannot use: an unknown fixture name, a malformed pin, a base URL that is not http(s). */
export class CallbackInputInvalid extends CountersignError {
  readonly code = 'CS_CALLBACK_INPUT' satisfies CallbackClientErrorCode
}
