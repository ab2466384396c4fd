/**
 * Builders of REST API request tokens for the keys tests: every token is really signed (or really forged)
 * with the stated claims, so each refusal is earned by the verifier, not assumed.
 */
import { createHash, type KeyObject } from 'node:crypto'
import { CompactSign } from 'jose'
import { ManualClock } from '../../src/core/index.js'
import type { SignedRequest } from '../../src/keys/index.js'

export const NOW = new Date('2026-03-01T12:00:00Z')
export const NOW_SECONDS = NOW.getTime() / 1000
export const fixedClock = (date: Date = NOW): ManualClock => new ManualClock(date)

export const API_KEY = '3f0c5c8e-7d1a-4b8e-9a51-2f7f3c1d9e42'
export const URI = '/v1/vault/accounts_paged?limit=10'

export const sha256 = (data: string): string => createHash('sha256').update(data).digest('hex')

export function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    uri: URI,
    nonce: 'b5d6c1e2-4f3a-4e0b-8c7d-1a2b3c4d5e6f',
    iat: NOW_SECONDS,
    exp: NOW_SECONDS + 55,
    sub: API_KEY,
    bodyHash: sha256(''),
    ...overrides,
  }
}

/** The valid claims less one. */
export function claimsWithout(name: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(claims()).filter(([key]) => key !== name))
}

/** An RS256 compact JWS over exactly these claims (a key of the wrong kind is the caller's choice). */
export async function signClaims(payload: Record<string, unknown>, key: KeyObject): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
    .sign(key)
}

export function request(token: string | undefined, overrides: Partial<SignedRequest> = {}): SignedRequest {
  return {
    url: URI,
    headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), 'x-api-key': API_KEY },
    ...overrides,
  }
}
