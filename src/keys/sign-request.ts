import { randomUUID, type KeyObject } from 'node:crypto'
import { SignJWT } from 'jose'
import { importRsaPrivateKey } from '../protocol/index.js'
import { sha256Hex, systemClock, type Clock } from '../core/index.js'
import { requestUri } from './request-uri.js'

/** Every official SDK sets `exp` 55 s after `iat` (protocol.md §5.2). */
export const REQUEST_TOKEN_LIFETIME_SECONDS = 55

export interface SignRequestInput {
  /** The API key (UUID) of the API user: `X-API-Key` and the `sub` claim. */
  readonly apiKey: string
  /** The API user's RSA private key, whose CSR was uploaded for that API user. */
  readonly privateKey: KeyObject
  /** Absolute URL, or the request target (`/v1/vault/accounts_paged?limit=10`). */
  readonly url: string
  /** The exact body bytes that will be sent; absent for GET and DELETE. */
  readonly body?: Uint8Array | string
  readonly clock?: Clock
  /** Defaults to a random UUID, as the SDKs send. */
  readonly nonce?: string
}

export interface RequestClaims {
  readonly uri: string
  readonly nonce: string | number
  readonly iat: number
  readonly exp: number
  readonly sub: string
  readonly bodyHash: string
}

// A type literal, not an interface, so it is assignable to a plain header record.
export type SignedRequestHeaders = {
  readonly 'X-API-Key': string
  readonly Authorization: string
}

/** Builds the two authentication headers of a Fireblocks-style REST API call. */
export async function signRequest(
  input: SignRequestInput,
): Promise<{ readonly headers: SignedRequestHeaders; readonly claims: RequestClaims }> {
  const key = importRsaPrivateKey(input.privateKey, 'API user private key')
  const iat = Math.floor((input.clock ?? systemClock).now() / 1000)
  const claims: RequestClaims = {
    uri: requestUri(input.url),
    nonce: input.nonce ?? randomUUID(),
    iat,
    exp: iat + REQUEST_TOKEN_LIFETIME_SECONDS,
    sub: input.apiKey,
    bodyHash: sha256Hex(input.body ?? ''),
  }
  const token = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'RS256', typ: 'JWT' }).sign(key)
  return { headers: { 'X-API-Key': input.apiKey, Authorization: `Bearer ${token}` }, claims }
}
