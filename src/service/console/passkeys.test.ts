import { describe, expect, it } from 'vitest'
import type { AuthenticationResponseJSON } from '@simplewebauthn/server'
import {
  passkeyAssertion,
  testPasskey,
  USER_PRESENT,
  type AssertionRequest,
  type TestPasskey,
} from '../../../test/support/passkeys.js'
import { coseToPem, PasskeyCeremonies, type StoredPasskey } from './passkeys.js'

const party = { origin: 'https://approvals.example.com', rpId: 'approvals.example.com', name: 'Countersign' }
const ceremonies = new PasskeyCeremonies(party)
const CHALLENGE = Buffer.from('a challenge the console issued once').toString('base64url')

const stored = (passkey: TestPasskey, signCount = 0): StoredPasskey => ({
  credentialId: passkey.credentialId,
  publicKeyCose: passkey.publicKeyCose,
  publicKeyPem: passkey.publicKeyPem,
  signCount,
  transports: ['internal'],
})

/** The browser's answer to `navigator.credentials.get`, as the console's routes receive it. */
function response(passkey: TestPasskey, request: Partial<AssertionRequest> = {}): AuthenticationResponseJSON {
  const assertion = passkeyAssertion(passkey, { challenge: CHALLENGE, ...party, signCount: 5, ...request })
  return {
    id: passkey.credentialId,
    rawId: passkey.credentialId,
    type: 'public-key',
    response: assertion,
    clientExtensionResults: {},
  }
}

describe('the passkey ceremonies (sign-in and vote assertions)', () => {
  const alice = testPasskey('cred-alice')

  it("accepts the passkey's assertion on the console's origin and rpID, and gives its new counter", async () => {
    expect(await ceremonies.verifyAuthentication(response(alice), CHALLENGE, stored(alice, 4))).toBe(5)
    // A passkey whose authenticator keeps no counter (always 0) is accepted too, as WebAuthn allows.
    const counterless = response(alice, { signCount: 0 })
    expect(await ceremonies.verifyAuthentication(counterless, CHALLENGE, stored(alice))).toBe(0)
  })

  it('refuses another origin, another rpID, another challenge, no user verification, another key', async () => {
    const refused = [
      response(alice, { origin: 'https://approvals.example.com.evil.test' }),
      response(alice, { origin: 'http://approvals.example.com' }),
      response(alice, { rpId: 'example.com' }),
      response(alice, { challenge: Buffer.from('another challenge').toString('base64url') }),
      response(alice, { flags: USER_PRESENT }),
      response(alice, { type: 'webauthn.create' }),
      response(testPasskey('cred-alice')),
    ]
    for (const answer of refused)
      expect(await ceremonies.verifyAuthentication(answer, CHALLENGE, stored(alice))).toBeUndefined()
  })

  it('refuses a signature counter that did not move past the recorded one (a cloned authenticator)', async () => {
    for (const signCount of [5, 4])
      expect(
        await ceremonies.verifyAuthentication(response(alice, { signCount }), CHALLENGE, stored(alice, 5)),
      ).toBeUndefined()
  })

  it('stores the COSE key as the same SPKI key that votes are verified with again', () => {
    expect(coseToPem(new Uint8Array(Buffer.from(alice.publicKeyCose, 'base64url')))).toBe(alice.publicKeyPem)
  })
})
