import { createPublicKey, type JsonWebKey } from 'node:crypto'
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type AuthenticatorTransport,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server'
import { cose, decodeCredentialPublicKey } from '@simplewebauthn/server/helpers'

/** The relying party: the console's origin (what the browser shows) and its host, the passkeys' rpID. */
export interface RelyingParty {
  readonly origin: string
  readonly rpId: string
  readonly name: string
}

/** A passkey as the console stores it (see the console capability of src/storage). */
export interface StoredPasskey {
  readonly credentialId: string
  readonly publicKeyCose: string
  readonly publicKeyPem: string
  readonly signCount: number
  readonly transports: readonly string[]
}

/** EdDSA, ES256 and RS256: what `checkPasskeyVote` verifies. */
const ALGORITHMS = [-8, -7, -257]

const bytes = (base64url: string): Uint8Array<ArrayBuffer> =>
  new Uint8Array(Buffer.from(base64url, 'base64url'))

/** The COSE key as SPKI PEM, so that stored assertions can be verified again with node:crypto alone. */
export function coseToPem(publicKeyCose: Uint8Array<ArrayBuffer>): string {
  const key = decodeCredentialPublicKey(publicKeyCose) as unknown as Map<number, unknown>
  const field = (label: number): string => {
    const value = key.get(label)
    if (!(value instanceof Uint8Array)) throw new Error(`the COSE key has no field ${label}`)
    return Buffer.from(value).toString('base64url')
  }
  const kty = key.get(cose.COSEKEYS.kty)
  let jwk: JsonWebKey
  if (kty === cose.COSEKTY.EC2) jwk = { kty: 'EC', crv: 'P-256', x: field(-2), y: field(-3) }
  else if (kty === cose.COSEKTY.OKP) jwk = { kty: 'OKP', crv: 'Ed25519', x: field(-2) }
  else if (kty === cose.COSEKTY.RSA) jwk = { kty: 'RSA', n: field(-1), e: field(-2) }
  else throw new Error(`unsupported COSE key type ${String(kty)}`)
  return createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string
}

/**
 * The two WebAuthn ceremonies over @simplewebauthn/server, with what every console requires: a resident
 * key (passkey), user verification, the console's own origin and rpID. Challenges are the caller's (random
 * for sign-in and enrolment; a vote's binds the vote), stored single-use by the caller.
 */
export class PasskeyCeremonies {
  readonly #party: RelyingParty

  constructor(party: RelyingParty) {
    this.#party = party
  }

  registrationOptions(
    principal: string,
    challenge: string,
    existing: readonly StoredPasskey[],
  ): Promise<PublicKeyCredentialCreationOptionsJSON> {
    return generateRegistrationOptions({
      rpName: this.#party.name,
      rpID: this.#party.rpId,
      userName: principal,
      userDisplayName: principal,
      challenge: bytes(challenge),
      attestationType: 'none',
      excludeCredentials: existing.map((passkey) => ({ id: passkey.credentialId })),
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      supportedAlgorithmIDs: ALGORITHMS,
    })
  }

  /** The new passkey, or undefined when the response does not verify against `challenge`. */
  async verifyRegistration(
    response: RegistrationResponseJSON,
    challenge: string,
  ): Promise<StoredPasskey | undefined> {
    const result = await verifyRegistrationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: this.#party.origin,
      expectedRPID: this.#party.rpId,
      requireUserVerification: true,
      supportedAlgorithmIDs: ALGORITHMS,
    }).catch(() => undefined)
    if (result?.verified !== true) return undefined
    const { credential } = result.registrationInfo
    return {
      credentialId: credential.id,
      publicKeyCose: Buffer.from(credential.publicKey).toString('base64url'),
      publicKeyPem: coseToPem(credential.publicKey),
      signCount: credential.counter,
      transports: credential.transports ?? [],
    }
  }

  authenticationOptions(
    challenge: string,
    allowed: readonly StoredPasskey[] = [],
  ): Promise<PublicKeyCredentialRequestOptionsJSON> {
    return generateAuthenticationOptions({
      rpID: this.#party.rpId,
      challenge: bytes(challenge),
      userVerification: 'required',
      allowCredentials: allowed.map((passkey) => ({
        id: passkey.credentialId,
        transports: passkey.transports as AuthenticatorTransport[],
      })),
    })
  }

  /** The authenticator's new signature counter, or undefined when the assertion does not verify. */
  async verifyAuthentication(
    response: AuthenticationResponseJSON,
    challenge: string,
    passkey: StoredPasskey,
  ): Promise<number | undefined> {
    const result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: this.#party.origin,
      expectedRPID: this.#party.rpId,
      requireUserVerification: true,
      credential: {
        id: passkey.credentialId,
        publicKey: bytes(passkey.publicKeyCose),
        counter: passkey.signCount,
        transports: passkey.transports as AuthenticatorTransport[],
      },
    }).catch(() => undefined)
    return result?.verified === true ? result.authenticationInfo.newCounter : undefined
  }
}
