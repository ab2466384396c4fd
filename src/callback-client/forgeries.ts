import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { signCallbackRequest } from '../protocol/index.js'

/**
 * Hostile requests the conformance suite sends for real: each is a token with exactly the stated flaw, so
 * a handler that approves one has a real hole, not a parsing quirk.
 */
const b64url = (text: string): string => Buffer.from(text).toString('base64url')

function signingInput(alg: string, payload: unknown): string {
  return `${b64url(JSON.stringify({ alg, typ: 'JWT' }))}.${b64url(JSON.stringify(payload))}`
}

/** RS256, well formed, signed by a fresh RSA key the handler has never seen. */
export async function signedByStranger(payload: unknown): Promise<string> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return signCallbackRequest(payload, privateKey)
}

/** An unsecured JWS: `alg: none` and an empty signature. */
export function algNone(payload: unknown): string {
  return `${signingInput('none', payload)}.`
}

/** Key confusion: HS256 keyed with the bytes of the co-signer public key PEM the handler holds. */
export function hs256WithPublicKey(payload: unknown, cosignerPublicKey: KeyObject): string {
  const pem = cosignerPublicKey.export({ type: 'spki', format: 'pem' }).toString()
  const input = signingInput('HS256', payload)
  return `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`
}

/** A genuine token whose payload was replaced after signing; the original signature is kept. */
export function withSwappedPayload(token: string, payload: unknown): string {
  const [header, , signature] = token.split('.')
  return `${header}.${b64url(JSON.stringify(payload))}.${signature}`
}

/** A genuine token cut short inside its signature. */
export function truncated(token: string): string {
  return token.slice(0, -10)
}
