import type { KeyObject } from 'node:crypto'
import { decodeJwt, decodeProtectedHeader, type JWTPayload } from 'jose'
import { JwtMalformed, JwtSignatureInvalid, verifyRs256 } from '../protocol/index.js'
import { sha256Hex, systemClock, type Clock } from '../core/index.js'
import { bodyHashMatches } from './body-hash.js'
import type { NonceStore } from './nonce-store.js'
import { RequestAuthFailed } from './request-auth-failed.js'
import { requestUri, sameRequestUri } from './request-uri.js'
import { REQUEST_TOKEN_LIFETIME_SECONDS, type RequestClaims } from './sign-request.js'

export type RequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>

export interface SignedRequest {
  /** The request target as received (`/v1/vault/accounts_paged?limit=10`) or an absolute URL. */
  readonly url: string
  /** Header names in any case, as Node gives them. */
  readonly headers: RequestHeaders
  /** The exact body bytes received; absent or empty for a body-less request. */
  readonly body?: Uint8Array | string
}

/** Where the registered public key of each API user comes from (the hub's API-user table, a single CSR...). */
export interface ApiUserKeys {
  publicKeyFor(apiKey: string): KeyObject | undefined | Promise<KeyObject | undefined>
}

export interface VerifyRequestOptions {
  readonly keys: ApiUserKeys
  readonly nonces: NonceStore
  readonly clock?: Clock
  /** Tolerated difference between the caller's clock and ours, on both `iat` and `exp`. */
  readonly clockSkewSeconds?: number
  /** Longest accepted `exp - iat`; the SDKs use 55 s. Bounds how long a nonce must be remembered. */
  readonly maxLifetimeSeconds?: number
  /**
   * Compare `uri` with the request target byte for byte (a server that sees the raw target), instead of
   * after percent-encoding normalisation (which tolerates the legacy Python SDK's escaping).
   */
  readonly exactUri?: boolean
}

export const DEFAULT_CLOCK_SKEW_SECONDS = 5

export interface VerifiedRequest {
  readonly apiKey: string
  readonly claims: RequestClaims
}

/** A request as far as it is known: `keys diagnose` may lack the URL or the body, and skips those checks. */
export interface RequestEvidence {
  readonly url: string | undefined
  readonly headers: RequestHeaders
  readonly body: Uint8Array | undefined
}

export type SkippableCheck = 'uri' | 'body_hash'

export interface RequestEvaluation {
  readonly verified: VerifiedRequest
  readonly skipped: readonly SkippableCheck[]
}

/**
 * The one value of an authentication header, whatever the case of its name. A header given twice (as an
 * array, or under two spellings) is ambiguous: it counts as absent rather than have one picked.
 */
function header(headers: RequestHeaders, name: string): string | undefined {
  const values = Object.entries(headers)
    .filter(([key]) => key.toLowerCase() === name)
    .flatMap(([, value]) => (value === undefined ? [] : typeof value === 'string' ? [value] : [...value]))
  return values.length === 1 ? values[0] : undefined
}

function bearerToken(headers: RequestHeaders): string {
  const match = /^Bearer +(\S+)\s*$/i.exec(header(headers, 'authorization') ?? '')
  if (match?.[1] === undefined) {
    throw new RequestAuthFailed('missing_jwt', 'the request has no "Authorization: Bearer <JWT>" header')
  }
  return match[1]
}

function decode(token: string): { algorithm: unknown; payload: JWTPayload } {
  try {
    if (token.split('.').length !== 3) throw new JwtMalformed('not three parts')
    return { algorithm: decodeProtectedHeader(token).alg, payload: decodeJwt(token) }
  } catch {
    throw new RequestAuthFailed(
      'malformed_token',
      'the bearer token is not a compact JWS with a JSON header and a JSON object payload',
    )
  }
}

const isInteger = (value: unknown): value is number => Number.isSafeInteger(value)

/** The claims after the signature verified: every one present and of its type, or `invalid_claims`. */
function readClaims(payload: JWTPayload, sub: string): RequestClaims {
  const { uri, nonce, iat, exp, bodyHash } = payload
  const invalid = [
    typeof uri === 'string' && uri.length > 0 ? undefined : 'uri',
    (typeof nonce === 'string' && nonce.length > 0) || isInteger(nonce) ? undefined : 'nonce',
    isInteger(iat) ? undefined : 'iat',
    isInteger(exp) ? undefined : 'exp',
    typeof bodyHash === 'string' && /^[0-9a-fA-F]{64}$/.test(bodyHash) ? undefined : 'bodyHash',
  ].filter((name) => name !== undefined)
  if (invalid.length > 0) {
    throw new RequestAuthFailed('invalid_claims', `the JWT lacks valid claims: ${invalid.join(', ')}`)
  }
  return { uri, nonce, iat, exp, sub, bodyHash } as RequestClaims
}

function checkTime(
  claims: RequestClaims,
  nowSeconds: number,
  skewSeconds: number,
  maxLifetimeSeconds: number,
) {
  const lifetime = claims.exp - claims.iat
  if (lifetime <= 0 || lifetime > maxLifetimeSeconds) {
    throw new RequestAuthFailed(
      'invalid_claims',
      `the JWT lives ${lifetime} s (exp - iat); it must be more than 0 and at most ${maxLifetimeSeconds} s`,
    )
  }
  if (claims.iat > nowSeconds + skewSeconds) {
    const secondsAhead = Math.round(claims.iat - nowSeconds)
    throw new RequestAuthFailed(
      'issued_in_future',
      `iat is ${secondsAhead} s ahead of this server's clock (${skewSeconds} s of skew tolerated)`,
      { secondsAhead },
    )
  }
  if (nowSeconds >= claims.exp + skewSeconds) {
    const secondsPast = Math.round(nowSeconds - claims.exp)
    throw new RequestAuthFailed(
      'expired',
      `exp passed ${secondsPast} s ago by this server's clock (${skewSeconds} s of skew tolerated)`,
      { secondsPast },
    )
  }
}

/**
 * Runs every check of REST API request authentication, in the order a server must: the token's presence
 * and shape, RS256 only, whose key it claims (`sub` = `X-API-Key`), the signature with that API user's
 * registered key, and only then the signed claims: lifetime, `iat`/`exp` against the clock, `uri`,
 * `bodyHash`, and last the nonce, so that a refused request never uses one up. The first failure throws
 * `RequestAuthFailed`. A check whose input is unknown (`url` or `body` undefined) is skipped and listed.
 */
export async function evaluateRequest(
  evidence: RequestEvidence,
  options: VerifyRequestOptions,
): Promise<RequestEvaluation> {
  const skewSeconds = options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS
  const maxLifetimeSeconds = options.maxLifetimeSeconds ?? REQUEST_TOKEN_LIFETIME_SECONDS
  if (!(skewSeconds >= 0) || !(maxLifetimeSeconds > 0)) {
    throw new RangeError('clockSkewSeconds must be >= 0 and maxLifetimeSeconds > 0')
  }

  const token = bearerToken(evidence.headers)
  const { algorithm, payload } = decode(token)
  if (algorithm !== 'RS256') {
    throw new RequestAuthFailed(
      'algorithm_not_allowed',
      `the JWT is signed with ${String(algorithm)}; only RS256 is accepted`,
      {
        algorithm: String(algorithm),
      },
    )
  }
  const sub = payload.sub
  if (typeof sub !== 'string' || sub.length === 0) {
    throw new RequestAuthFailed('missing_api_key', 'the JWT has no "sub" claim holding the API key')
  }
  const apiKey = header(evidence.headers, 'x-api-key')
  if (apiKey !== sub) {
    const detail =
      apiKey === undefined
        ? 'the request has no X-API-Key header'
        : 'the JWT "sub" differs from the X-API-Key header'
    throw new RequestAuthFailed('wrong_user', detail, { sub, ...(apiKey === undefined ? {} : { apiKey }) })
  }
  const publicKey = await options.keys.publicKeyFor(sub)
  if (publicKey === undefined) {
    throw new RequestAuthFailed('wrong_user', 'no API user is registered with this API key', { sub, apiKey })
  }
  try {
    await verifyRs256(token, [publicKey])
  } catch (error) {
    if (!(error instanceof JwtSignatureInvalid))
      throw new RequestAuthFailed('malformed_token', 'the JWT could not be parsed')
    throw new RequestAuthFailed(
      'invalid_signature',
      "the JWT signature does not verify with the API user's registered key",
    )
  }

  const claims = readClaims(payload, sub)
  const nowSeconds = (options.clock ?? systemClock).now() / 1000
  checkTime(claims, nowSeconds, skewSeconds, maxLifetimeSeconds)

  const skipped: SkippableCheck[] = []
  if (evidence.url === undefined) skipped.push('uri')
  else {
    const actualUri = requestUri(evidence.url)
    const sameUri =
      options.exactUri === true ? claims.uri === actualUri : sameRequestUri(claims.uri, actualUri)
    if (!sameUri) {
      throw new RequestAuthFailed('wrong_uri', 'the JWT "uri" is not the path and query of the request', {
        signedUri: claims.uri,
        actualUri,
      })
    }
  }
  if (evidence.body === undefined) skipped.push('body_hash')
  else if (!bodyHashMatches(claims.bodyHash, evidence.body)) {
    throw new RequestAuthFailed(
      'body_hash_mismatch',
      'the JWT "bodyHash" is not the SHA-256 of the request body',
      {
        signedBodyHash: claims.bodyHash,
        actualBodyHash: sha256Hex(evidence.body),
      },
    )
  }

  const retainUntilMs = (claims.exp + skewSeconds) * 1000
  if (!(await options.nonces.claim(sub, String(claims.nonce), retainUntilMs))) {
    throw new RequestAuthFailed(
      'nonce_reused',
      'this nonce was already used by an accepted request (a replay)',
    )
  }
  return { verified: { apiKey: sub, claims }, skipped }
}

/**
 * Authenticates a REST API request against the API users' registered keys. Returns the API key and claims,
 * or throws `RequestAuthFailed` carrying the Fireblocks code and message to answer with HTTP 401.
 */
export async function verifyRequest(
  request: SignedRequest,
  options: VerifyRequestOptions,
): Promise<VerifiedRequest> {
  const body =
    typeof request.body === 'string' ? Buffer.from(request.body) : (request.body ?? new Uint8Array())
  const { verified } = await evaluateRequest({ url: request.url, headers: request.headers, body }, options)
  return verified
}
