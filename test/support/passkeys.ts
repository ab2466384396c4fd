/**
 * A software passkey for tests: a P-256 key (ES256) that makes WebAuthn assertions as an authenticator and
 * a browser do (WebAuthn Level 3, §6.1 authenticator data, §5.8.1 client data, §6.3.3 signature), so that
 * verifiers are tested on real assertions, never stubbed.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto'
import { isoCBOR } from '@simplewebauthn/server/helpers'

/** Authenticator data flags: user present (UP), user verified (UV). */
export const USER_PRESENT = 0x01
export const USER_VERIFIED = 0x04

export interface TestPasskey {
  readonly credentialId: string
  readonly publicKeyPem: string
  /** The COSE key (EC2, ES256) as the console stores it, base64url. */
  readonly publicKeyCose: string
  readonly privateKey: KeyObject
}

export interface AssertionRequest {
  /** The challenge as the relying party issued it, base64url. */
  readonly challenge: string
  readonly origin: string
  readonly rpId: string
  readonly flags?: number
  readonly signCount?: number
  readonly type?: string
}

/** What `navigator.credentials.get` gives back, base64url, as the console receives it. */
export interface TestAssertion {
  readonly authenticatorData: string
  readonly clientDataJSON: string
  readonly signature: string
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest()

export function testPasskey(credentialId = `cred-${Math.random().toString(36).slice(2)}`): TestPasskey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  const jwk = publicKey.export({ format: 'jwk' })
  // COSE_Key (RFC 9053): kty EC2 (2), alg ES256 (-7), crv P-256 (1), x, y.
  const cose = new Map<number, number | Uint8Array>([
    [1, 2],
    [3, -7],
    [-1, 1],
    [-2, new Uint8Array(Buffer.from(jwk.x!, 'base64url'))],
    [-3, new Uint8Array(Buffer.from(jwk.y!, 'base64url'))],
  ])
  return {
    credentialId,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    publicKeyCose: Buffer.from(isoCBOR.encode(cose)).toString('base64url'),
    privateKey,
  }
}

/** rpIdHash (32) | flags (1) | signCount (4, big-endian), with no attested data or extensions. */
export function authenticatorData(rpId: string, flags: number, signCount: number): Buffer {
  const counter = Buffer.alloc(4)
  counter.writeUInt32BE(signCount)
  return Buffer.concat([sha256(rpId), Buffer.from([flags]), counter])
}

/** An assertion by `passkey`: its signature (DER ECDSA) over authenticatorData || SHA-256(clientDataJSON). */
export function passkeyAssertion(passkey: TestPasskey, request: AssertionRequest): TestAssertion {
  const clientData = Buffer.from(
    JSON.stringify({
      type: request.type ?? 'webauthn.get',
      challenge: request.challenge,
      origin: request.origin,
      crossOrigin: false,
    }),
  )
  const data = authenticatorData(
    request.rpId,
    request.flags ?? USER_PRESENT | USER_VERIFIED,
    request.signCount ?? 1,
  )
  return signedAssertion(passkey, data, clientData)
}

/** Signs the given bytes as they are, for tests that alter one part of an assertion and sign it again. */
export function signedAssertion(passkey: TestPasskey, data: Buffer, clientData: Buffer): TestAssertion {
  const signature = sign('sha256', Buffer.concat([data, sha256(clientData)]), {
    key: passkey.privateKey,
    dsaEncoding: 'der',
  })
  return {
    authenticatorData: data.toString('base64url'),
    clientDataJSON: clientData.toString('base64url'),
    signature: signature.toString('base64url'),
  }
}
