/**
 * Hostile tokens, shared by every attack test and by the conformance suite, which sends them for real:
 * each is a token with exactly the stated flaw, so a verifier that accepts one has a real hole, not a
 * parsing quirk.
 */
import { constants, createHmac, createSign, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { signCallbackRequest } from '../protocol/index.js'

export const b64url = (input: string | Buffer): string => Buffer.from(input).toString('base64url')

function signingInput(alg: string, payload: unknown): string {
  return `${b64url(JSON.stringify({ alg, typ: 'JWT' }))}.${b64url(JSON.stringify(payload))}`
}

/** RS256, well formed, signed by a fresh RSA key the verifier has never seen. */
export async function forgeSignedByStranger(payload: unknown): Promise<string> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return signCallbackRequest(payload, privateKey)
}

/** An unsecured JWS: `alg: none` and an empty signature. */
export function forgeAlgNone(payload: unknown): string {
  return `${signingInput('none', payload)}.`
}

/** The classic key-confusion attack: HS256 keyed with the bytes of the RSA public key PEM. */
export function forgeHs256WithPublicKey(payload: unknown, publicKey: KeyObject | string): string {
  const pem = typeof publicKey === 'string' ? publicKey : publicKey.export({ type: 'spki', format: 'pem' })
  const input = signingInput('HS256', payload)
  return `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`
}

/** A PS256 (RSA-PSS) token signed with a genuine key: right key, wrong algorithm. */
export function forgePs256(payload: unknown, privateKey: KeyObject): string {
  const input = signingInput('PS256', payload)
  const signer = createSign('sha256').update(input)
  return `${input}.${signer.sign({ key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }).toString('base64url')}`
}

/** An ES256 token signed with a P-256 key. */
export function forgeEs256(payload: unknown, ecPrivateKey: KeyObject): string {
  const input = signingInput('ES256', payload)
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
