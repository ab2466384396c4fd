/**
 * Every error Countersign raises on purpose carries a stable `code` from this closed list, so callers
 * switch on codes and never parse messages. A retired code is never reused.
 */
export type ErrorCode =
  // JWT codec (protocol)
  | 'CS_JWT_MALFORMED'
  | 'CS_JWT_ALG_NOT_ALLOWED'
  | 'CS_JWT_SIGNATURE_INVALID'
  | 'CS_KEY_UNSUPPORTED'
  // payload validation (protocol)
  | 'CS_PAYLOAD_INVALID'
  // keys tooling and REST request authentication
  | 'CS_KEY_UNREADABLE'
  | 'CS_KEY_ENCRYPTED'
  | 'CS_FILE_EXISTS'
  | 'CS_REQUEST_AUTH'
  | 'CS_SUBJECT_INVALID'
  // configuration and policy
  | 'CS_CONFIG_INVALID'
  | 'CS_POLICY_INVALID'
  | 'CS_POLICY_EVALUATION'
  | 'CS_POLICY_CASES_INVALID'
  // store
  | 'CS_STORE_UNAVAILABLE'
  | 'CS_STORE_CONFLICT'
  | 'CS_AUDIT_BROKEN'
  | 'CS_NOT_FOUND'
  // callback client
  | 'CS_CALLBACK_PROTOCOL'
  | 'CS_CALLBACK_TRANSPORT'
  | 'CS_CALLBACK_INPUT'

export abstract class CountersignError extends Error {
  abstract readonly code: ErrorCode

  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
  }
}

/** The token is not a compact JWS with a JSON header and payload. */
export class JwtMalformed extends CountersignError {
  readonly code = 'CS_JWT_MALFORMED'
}

/** The token names an algorithm other than RS256 (`none`, HS256, PS256, ES256, ...). */
export class JwtAlgorithmNotAllowed extends CountersignError {
  readonly code = 'CS_JWT_ALG_NOT_ALLOWED'
  readonly algorithm: string

  constructor(algorithm: string) {
    super(`JWT algorithm "${algorithm}" is not allowed; only RS256 is accepted`)
    this.algorithm = algorithm
  }
}

/** No configured key verifies the signature. The message never says more: it may reach a caller. */
export class JwtSignatureInvalid extends CountersignError {
  readonly code = 'CS_JWT_SIGNATURE_INVALID'

  constructor(options?: ErrorOptions) {
    super('JWT signature verification failed', options)
  }
}

/** A key that is not RSA, or an RSA key under 2048 bits. */
export class KeyUnsupported extends CountersignError {
  readonly code = 'CS_KEY_UNSUPPORTED'
}

/** A payload that does not satisfy the wire contract; `issues` lists each failing field. */
export class PayloadInvalid extends CountersignError {
  readonly code = 'CS_PAYLOAD_INVALID'
  readonly issues: readonly string[]
  /** The `requestId` when one could be read, so the handler can answer with a signed REJECT. */
  readonly requestId: string | undefined

  constructor(issues: readonly string[], requestId: string | undefined) {
    super(`invalid payload: ${issues.join('; ')}`)
    this.issues = issues
    this.requestId = requestId
  }
}
