/**
 * Builders of hostile tokens, shared by every attack test: each produces a token for real with the
 * stated flaw, never a string that merely looks wrong.
 */
import { createHmac, createSign, type KeyObject } from 'node:crypto'

export const b64url = (input: string | Buffer): string => Buffer.from(input).toString('base64url')

function signingInput(header: object, payload: unknown): string {
  return `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`
}

/** An unsecured JWS: `alg: none` and an empty signature. */
export function forgeAlgNone(payload: unknown): string {
  return `${signingInput({ alg: 'none', typ: 'JWT' }, payload)}.`
}

/** The classic key-confusion attack: HS256 keyed with the bytes of the RSA public key PEM. */
export function forgeHs256WithPublicKey(payload: unknown, publicKeyPem: string): string {
  const input = signingInput({ alg: 'HS256', typ: 'JWT' }, payload)
  return `${input}.${createHmac('sha256', publicKeyPem).update(input).digest('base64url')}`
}

/** A PS256 (RSA-PSS) token signed with a genuine key: right key, wrong algorithm. */
export function forgePs256(payload: unknown, privateKey: KeyObject): string {
  const input = signingInput({ alg: 'PS256', typ: 'JWT' }, payload)
  const signer = createSign('sha256').update(input)
  return `${input}.${signer.sign({ key: privateKey, padding: 6, saltLength: 32 }).toString('base64url')}`
}

/** An ES256 token signed with a P-256 key. */
export function forgeEs256(payload: unknown, ecPrivateKey: KeyObject): string {
  const input = signingInput({ alg: 'ES256', typ: 'JWT' }, payload)
  const signature = createSign('sha256').update(input).sign({ key: ecPrivateKey, dsaEncoding: 'ieee-p1363' })
  return `${input}.${signature.toString('base64url')}`
}

/** A genuine RS256 token whose payload was swapped after signing (signature of the original kept). */
export function alterPayload(token: string, payload: unknown): string {
  const [header, , signature] = token.split('.')
  return `${header}.${b64url(JSON.stringify(payload))}.${signature}`
}

/** A genuine token cut short in its signature. */
export function truncate(token: string, dropChars = 10): string {
  return token.slice(0, token.length - dropChars)
}
