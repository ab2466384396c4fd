import type { KeyObject } from 'node:crypto'
import { CompactSign, compactVerify, decodeProtectedHeader, errors as joseErrors } from 'jose'
import { JwtAlgorithmNotAllowed, JwtMalformed, JwtSignatureInvalid } from './errors.js'
import { CallbackResponseClaimsSchema, type CallbackResponse } from './response.js'
import { formatZodIssues } from '../core/index.js'

/**
 * The JWT codec of the callback protocol. Both directions are compact RS256 JWS with no registered claims
 * required (real co-signer tokens carry none, protocol.md §1.3). The algorithm allow-list is RS256 only:
 * `none`, HS256 keyed with the public key, PS256 and ES256 are all refused before any key is tried.
 */
const ALLOWED_ALGORITHMS = ['RS256']
const encoder = new TextEncoder()
const decoder = new TextDecoder()

export interface VerifiedJwt {
  readonly payload: unknown
  /** Index, in the keys given, of the key that verified the signature. */
  readonly keyIndex: number
}

/** Reads the body of a callback POST: trims it and tolerates a JSON-quoted token (seen behind API gateways). */
export function extractCompactToken(body: string): string {
  const trimmed = body.trim()
  if (trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"'))
    return trimmed.slice(1, -1).trim()
  return trimmed
}

function readAlgorithm(token: string): string {
  if (token.split('.').length !== 3) throw new JwtMalformed('token is not a compact JWS of three parts')
  try {
    const header = decodeProtectedHeader(token)
    if (typeof header.alg !== 'string') throw new JwtMalformed('token header has no "alg"')
    return header.alg
  } catch (error) {
    if (error instanceof JwtMalformed) throw error
    throw new JwtMalformed('token header is not base64url-encoded JSON', { cause: error })
  }
}

/**
 * Verifies a compact RS256 JWS against any of the given RSA public keys (already imported with
 * `importRsaPublicKey`, which refuses keys under 2048 bits) and returns its decoded JSON payload.
 */
export async function verifyRs256(token: string, keys: readonly KeyObject[]): Promise<VerifiedJwt> {
  const algorithm = readAlgorithm(token)
  if (!ALLOWED_ALGORITHMS.includes(algorithm)) throw new JwtAlgorithmNotAllowed(algorithm)
  let lastError: unknown
  for (const [keyIndex, key] of keys.entries()) {
    try {
      const { payload } = await compactVerify(token, key, { algorithms: ALLOWED_ALGORITHMS })
      return { payload: parseJsonPayload(payload), keyIndex }
    } catch (error) {
      if (error instanceof JwtMalformed) throw error
      if (error instanceof joseErrors.JWSInvalid)
        throw new JwtMalformed('token is not a valid JWS', { cause: error })
      lastError = error
    }
  }
  throw new JwtSignatureInvalid({ cause: lastError })
}

function parseJsonPayload(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(bytes)) as unknown
  } catch (error) {
    throw new JwtMalformed('token payload is not JSON', { cause: error })
  }
}

/** Header order as real co-signers send it: `{"typ":"JWT","alg":"RS256"}`. */
const REQUEST_HEADER = { typ: 'JWT', alg: 'RS256' } as const
/** Header order of the documented handler response: `{"alg":"RS256","typ":"JWT"}`. */
const RESPONSE_HEADER = { alg: 'RS256', typ: 'JWT' } as const

async function signJson(
  header: { alg: string; typ: string },
  claims: unknown,
  key: KeyObject,
): Promise<string> {
  return new CompactSign(encoder.encode(JSON.stringify(claims))).setProtectedHeader(header).sign(key)
}

/** Signs a callback request payload as a co-signer does: compact JSON claims, no registered claims added. */
export async function signCallbackRequest(payload: unknown, cosignerKey: KeyObject): Promise<string> {
  return signJson(REQUEST_HEADER, payload, cosignerKey)
}

/**
 * Signs a handler response with exactly the claims `action`, `requestId`, `rejectionReason` (when present)
 * and `iat`, in seconds.
 */
export async function signCallbackResponse(
  response: CallbackResponse,
  handlerKey: KeyObject,
  issuedAtMs: number = Date.now(),
): Promise<string> {
  const claims = {
    action: response.action,
    requestId: response.requestId,
    ...(response.rejectionReason !== undefined ? { rejectionReason: response.rejectionReason } : {}),
    iat: Math.floor(issuedAtMs / 1000),
  }
  return signJson(RESPONSE_HEADER, claims, handlerKey)
}

/**
 * Verifies a handler response as a co-signer does: RS256 with the handler public key, then exact claim
 * names (`Action` or `request_id` are protocol violations, reported as `JwtMalformed`).
 */
export async function verifyCallbackResponse(
  token: string,
  handlerPublicKey: KeyObject,
): Promise<CallbackResponse> {
  const { payload } = await verifyRs256(extractCompactToken(token), [handlerPublicKey])
  const result = CallbackResponseClaimsSchema.safeParse(payload)
  if (!result.success) {
    const detail = formatZodIssues(result.error)
    throw new JwtMalformed(
      `response claims are not {action, requestId, rejectionReason?, iat?}: ${detail.join('; ')}`,
    )
  }
  const { action, requestId, rejectionReason } = result.data
  return rejectionReason === undefined ? { action, requestId } : { action, requestId, rejectionReason }
}
