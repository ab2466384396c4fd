import { CountersignError, defineErrorCodes } from '../core/index.js'

/** The codes of the wire contracts: the callback JWT codec and payload validation. */
export const PROTOCOL_ERRORS = defineErrorCodes('protocol', {
  CS_JWT_MALFORMED: {
    meaning: 'a callback token is not a compact JWS with a JSON header and a JSON object payload',
    fix: 'send the body as one compact RS256 JWT (header.payload.signature, base64url, no padding)',
  },
  CS_JWT_ALG_NOT_ALLOWED: {
    meaning: 'a callback token names an algorithm other than RS256 (none, HS256, PS256, ES256, ...)',
    fix: 'sign callback tokens with RS256 and the configured RSA key',
  },
  CS_JWT_SIGNATURE_INVALID: {
    meaning: 'no configured key verifies the signature of a callback token',
    fix: 'check that the peer signs with the private key whose public key is configured here',
  },
  CS_KEY_UNSUPPORTED: {
    meaning: 'a key is not RSA, or is an RSA key shorter than 2048 bits',
    fix: 'use an RSA key of at least 2048 bits (countersign keys generate makes one)',
  },
  CS_PAYLOAD_INVALID: {
    meaning:
      'a callback payload does not satisfy the wire contract (a missing or ill-typed field, or a malformed identifier)',
    fix: 'send the fields protocol.md requires, with the listed types; identifiers must be well-formed text within the length limit',
  },
})
export type ProtocolErrorCode = keyof typeof PROTOCOL_ERRORS.codes

/** The token is not a compact JWS with a JSON header and payload. */
export class JwtMalformed extends CountersignError {
  readonly code = 'CS_JWT_MALFORMED' satisfies ProtocolErrorCode
}

/** The token names an algorithm other than RS256 (`none`, HS256, PS256, ES256, ...). */
export class JwtAlgorithmNotAllowed extends CountersignError {
  readonly code = 'CS_JWT_ALG_NOT_ALLOWED' satisfies ProtocolErrorCode
  readonly algorithm: string

  constructor(algorithm: string) {
    super(`JWT algorithm "${algorithm}" is not allowed; only RS256 is accepted`)
    this.algorithm = algorithm
  }
}

/** No configured key verifies the signature. The message never says more: it may reach a caller. */
export class JwtSignatureInvalid extends CountersignError {
  readonly code = 'CS_JWT_SIGNATURE_INVALID' satisfies ProtocolErrorCode

  constructor(options?: ErrorOptions) {
    super('JWT signature verification failed', options)
  }
}

/** A key that is not RSA, or an RSA key under 2048 bits. */
export class KeyUnsupported extends CountersignError {
  readonly code = 'CS_KEY_UNSUPPORTED' satisfies ProtocolErrorCode
}

/** A payload that does not satisfy the wire contract; `issues` lists each failing field. */
export class PayloadInvalid extends CountersignError {
  readonly code = 'CS_PAYLOAD_INVALID' satisfies ProtocolErrorCode
  readonly issues: readonly string[]
  /** The `requestId` when one could be read, so the handler can answer with a signed REJECT. */
  readonly requestId: string | undefined

  constructor(issues: readonly string[], requestId: string | undefined) {
    super(`invalid payload: ${issues.join('; ')}`)
    this.issues = issues
    this.requestId = requestId
  }
}
