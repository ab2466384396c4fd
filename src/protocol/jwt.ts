import type { KeyObject } from 'node:crypto'
import { JwtAlgorithmNotAllowed, JwtMalformed, JwtSignatureInvalid, KeyUnsupported } from './errors.js'
import { base64urlJson, parseCompactJws, signRs256, verifyRs256Signature } from './jws.js'
import { assertStrongRsa } from './keys.js'
import { CallbackResponseClaimsSchema, type CallbackResponse } from './response.js'
import { formatZodIssues } from '../core/index.js'

/**
 * The JWT codec of the callback protocol. Both directions are compact RS256 JWS with no registered claims
 * required (real co-signer tokens carry none, protocol.md §1.3). The algorithm allow-list is RS256 only:
 * `none`, HS256 keyed with the public key, PS256 and ES256 are all refused before any key is tried.
 */
const ALLOWED_ALGORITHM = 'RS256'

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

/**
 * Verifies a compact RS256 JWS against any of the given RSA public keys (already imported with
 * `importRsaPublicKey`, which refuses keys under 2048 bits) and returns its decoded JSON payload.
 */
export function verifyRs256(token: string, keys: readonly KeyObject[]): Promise<VerifiedJwt> {
  // A promise still (callers await it), settled by a verification that now runs on this thread.
  return new Promise((resolve) => resolve(verifyNow(token, keys)))
}

function verifyNow(token: string, keys: readonly KeyObject[]): VerifiedJwt {
  const jws = parseCompactJws(token)
  const { alg } = jws.header
  if (typeof alg !== 'string') throw new JwtMalformed('token header has no "alg"')
  if (alg !== ALLOWED_ALGORITHM) throw new JwtAlgorithmNotAllowed(alg)
  let lastError: unknown
  for (const [keyIndex, key] of keys.entries()) {
    try {
      assertStrongRsa(key, 'verification key')
      if (verifyRs256Signature(jws.signingInput, jws.signature, key))
        return { payload: parseJsonPayload(jws.payloadText), keyIndex }
    } catch (error) {
      if (error instanceof JwtMalformed || error instanceof KeyUnsupported) throw error
      lastError = error
    }
  }
  throw new JwtSignatureInvalid(lastError === undefined ? undefined : { cause: lastError })
}

function parseJsonPayload(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch (error) {
    throw new JwtMalformed('token payload is not JSON', { cause: error })
  }
}

/** Header order as real co-signers send it: `{"typ":"JWT","alg":"RS256"}`, encoded once. */
const REQUEST_HEADER = base64urlJson({ typ: 'JWT', alg: 'RS256' })
/** Header order of the documented handler response: `{"alg":"RS256","typ":"JWT"}`, encoded once. */
const RESPONSE_HEADER = base64urlJson({ alg: 'RS256', typ: 'JWT' })

async function signJson(encodedHeader: string, claims: unknown, key: KeyObject): Promise<string> {
  if (key.type !== 'private') throw new KeyUnsupported('the signing key is not a private key')
  const signingInput = `${encodedHeader}.${base64urlJson(claims)}`
  return `${signingInput}.${await signRs256(signingInput, assertStrongRsa(key, 'signing key'))}`
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
