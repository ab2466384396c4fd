import { CountersignError } from '../core/index.js'
import type { KeysErrorCode } from './errors.js'

/**
 * Why a REST API request was refused, each with the code and message Fireblocks answers (protocol.md §5.5).
 * Messages marked "documented" are Fireblocks' own words; the others follow their style. Fireblocks
 * documents no code for a body-hash mismatch, a replayed nonce or a token missing required claims: those
 * fail closed as -7 "Token was not accepted", which clients already treat as a badly built JWT.
 */
export const REQUEST_AUTH_FAILURES = {
  // Checked by a server before the JWT (hub-api.md §2.7): whose X-API-Key, calling from where.
  unknown_api_key: { apiCode: -7, apiMessage: 'Unauthorized: Token was not accepted.' }, // documented
  ip_not_allowed: { apiCode: -7, apiMessage: 'Unauthorized: Token was not accepted.' }, // documented
  missing_jwt: { apiCode: -3, apiMessage: 'Unauthorized: JWT is missing.' },
  malformed_token: { apiCode: -5, apiMessage: 'Unauthorized: Invalid token format' }, // documented
  algorithm_not_allowed: { apiCode: -7, apiMessage: 'Unauthorized: Token was not accepted.' }, // documented
  missing_api_key: { apiCode: -2, apiMessage: 'Unauthorized: API key is missing in the JWT.' },
  wrong_user: { apiCode: -6, apiMessage: 'Unauthorized: Wrong user in the JWT.' },
  invalid_signature: { apiCode: -1, apiMessage: 'invalid signature' }, // documented
  invalid_claims: { apiCode: -7, apiMessage: 'Unauthorized: Token was not accepted.' }, // documented
  issued_in_future: { apiCode: -12, apiMessage: 'The request is with a future issuance timestamp (iat).' }, // documented
  expired: { apiCode: -10, apiMessage: 'The request has expired.' }, // documented
  wrong_uri: { apiCode: -4, apiMessage: 'Unauthorized: Wrong URL in the JWT.' },
  body_hash_mismatch: { apiCode: -7, apiMessage: 'Unauthorized: Token was not accepted.' }, // documented
  nonce_reused: { apiCode: -7, apiMessage: 'Unauthorized: Token was not accepted.' }, // documented
} as const satisfies Record<string, { apiCode: number; apiMessage: string }>
export type RequestAuthReason = keyof typeof REQUEST_AUTH_FAILURES

/** What the check saw, for logs and `keys diagnose`. Never holds the token or key material. */
export interface RequestAuthFacts {
  readonly algorithm?: string
  readonly sub?: string
  readonly apiKey?: string
  /** The address a request came from, refused by the API user's IP allow-list. */
  readonly sourceIp?: string
  readonly signedUri?: string
  readonly actualUri?: string
  readonly signedBodyHash?: string
  readonly actualBodyHash?: string
  /** `iat` minus now, for a token issued in the future. */
  readonly secondsAhead?: number
  /** Now minus `exp`, for an expired token. */
  readonly secondsPast?: number
}

/**
 * A refused REST API request. `message` is the documented wire message (safe to return to the caller as
 * `{message, code: apiCode}` with HTTP 401); `detail` is the precise cause, for the server's log only.
 */
export class RequestAuthFailed extends CountersignError {
  readonly code = 'CS_REQUEST_AUTH' satisfies KeysErrorCode
  readonly httpStatus = 401
  readonly reason: RequestAuthReason
  readonly apiCode: number
  readonly detail: string
  readonly facts: RequestAuthFacts

  constructor(reason: RequestAuthReason, detail: string, facts: RequestAuthFacts = {}) {
    const { apiCode, apiMessage } = REQUEST_AUTH_FAILURES[reason]
    super(apiMessage)
    this.reason = reason
    this.apiCode = apiCode
    this.detail = detail
    this.facts = facts
  }

  /** The 401 body Fireblocks answers: `{"message": ..., "code": ...}`. */
  toResponseBody(): { readonly message: string; readonly code: number } {
    return { message: this.message, code: this.apiCode }
  }
}
