import { describe, expect, it } from 'vitest'
import { sampleVote } from '../../test/support/approvers.js'
import {
  authenticatorData,
  passkeyAssertion,
  signedAssertion,
  testPasskey,
  USER_PRESENT,
  USER_VERIFIED,
  type AssertionRequest,
  type TestPasskey,
} from '../../test/support/passkeys.js'
import {
  checkPasskeyVote,
  encodePasskeyVote,
  passkeyVoteChallenge,
  VOTE_WINDOW_MS,
  type VoteFacts,
} from './index.js'

const facts = sampleVote
const { signedAt } = facts
const party = { origin: 'https://approvals.example.com', rpId: 'approvals.example.com' }
const NONCE = 'nonce-issued-once'

const alice = testPasskey('cred-alice')
const bob = testPasskey('cred-bob')

/** What the store expects of a vote by `approver` on r-1, whose enrolled passkey is `passkey`. */
const expectation = (passkey: TestPasskey = alice, approver = 'alice') => ({
  route: facts.route,
  requestId: facts.requestId,
  payloadDigest: facts.payloadDigest,
  approver,
  publicKeyPem: passkey.publicKeyPem,
  recordedAt: signedAt + 1_000,
})

/** The vote as the console records it: `passkey`'s assertion over the challenge of `signedFacts`. */
function passkeyVote(
  signedFacts: VoteFacts = facts,
  passkey: TestPasskey = alice,
  request: Partial<AssertionRequest> = {},
  nonce = NONCE,
): string {
  const challenge = passkeyVoteChallenge(signedFacts, nonce)
  return encodePasskeyVote({ nonce, ...passkeyAssertion(passkey, { challenge, ...party, ...request }) })
}

const notThisVote =
  "the passkey assertion's challenge is not this vote's: it was made for another request or decision"
const notAlicesPasskey = `the passkey assertion does not verify with "alice"'s enrolled passkey`

describe('checkPasskeyVote', () => {
  it('accepts an assertion by the approver’s passkey over exactly this vote', () => {
    expect(checkPasskeyVote(facts, passkeyVote(), expectation())).toBeNull()
    const rejection = { ...facts, decision: 'reject' as const, reason: 'unknown payee' }
    expect(checkPasskeyVote(rejection, passkeyVote(rejection), expectation())).toBeNull()
  })

  it('refuses a signature that is not the passkey’s: another key, or the bytes changed', () => {
    const forged = passkeyVote(facts, testPasskey('cred-alice'))
    expect(checkPasskeyVote(facts, forged, expectation())).toBe(notAlicesPasskey)
    const assertion = passkeyAssertion(alice, { challenge: passkeyVoteChallenge(facts, NONCE), ...party })
    const signature = Buffer.from(assertion.signature, 'base64url')
    signature[signature.length - 1]! ^= 0x01
    const flipped = encodePasskeyVote({
      nonce: NONCE,
      ...assertion,
      signature: signature.toString('base64url'),
    })
    expect(checkPasskeyVote(facts, flipped, expectation())).toBe(notAlicesPasskey)
    const empty = encodePasskeyVote({ nonce: NONCE, ...assertion, signature: '' })
    expect(checkPasskeyVote(facts, empty, expectation())).toBe(notAlicesPasskey)
  })

  it('refuses authenticator data or client data changed after signing', () => {
    const challenge = passkeyVoteChallenge(facts, NONCE)
    const assertion = passkeyAssertion(alice, { challenge, ...party, signCount: 5 })
    // A higher signature counter, as a replay past the counter check would need.
    const counter = authenticatorData(party.rpId, USER_PRESENT | USER_VERIFIED, 6).toString('base64url')
    const clientData = JSON.parse(Buffer.from(assertion.clientDataJSON, 'base64url').toString()) as object
    const respelled = Buffer.from(JSON.stringify({ ...clientData, crossOrigin: true })).toString('base64url')
    for (const altered of [{ authenticatorData: counter }, { clientDataJSON: respelled }])
      expect(
        checkPasskeyVote(facts, encodePasskeyVote({ nonce: NONCE, ...assertion, ...altered }), expectation()),
      ).toBe(notAlicesPasskey)
  })

  it('refuses an assertion made for another decision, request, payload, approver, reason or nonce', () => {
    const others: VoteFacts[] = [
      { ...facts, decision: 'reject', reason: 'no' },
      { ...facts, requestId: 'r-2' },
      { ...facts, payloadDigest: 'b'.repeat(64) },
      { ...facts, route: 'config' },
      { ...facts, approver: 'bob' },
      { ...facts, reason: 'looks fine' },
      { ...facts, signedAt: signedAt + 1 },
    ]
    // Each signed by alice's own passkey, then recorded as her approval of r-1 (an inserted or edited row).
    for (const other of others)
      expect(checkPasskeyVote(facts, passkeyVote(other), expectation())).toBe(notThisVote)
    // The nonce travels with the vote; swapping it for another breaks the challenge too.
    const assertion = passkeyAssertion(alice, { challenge: passkeyVoteChallenge(facts, NONCE), ...party })
    const swapped = encodePasskeyVote({ nonce: 'another-nonce', ...assertion })
    expect(checkPasskeyVote(facts, swapped, expectation())).toBe(notThisVote)
  })

  it('refuses a vote as alice made with a passkey of bob’s, and bob’s vote recorded as hers', () => {
    expect(checkPasskeyVote(facts, passkeyVote(facts, bob), expectation())).toBe(notAlicesPasskey)
    const bobs = { ...facts, approver: 'bob' }
    expect(checkPasskeyVote(bobs, passkeyVote(bobs, bob), expectation(alice, 'alice'))).toBe(
      'the vote is signed as "bob", not "alice"',
    )
    expect(checkPasskeyVote(facts, passkeyVote(bobs, bob), expectation())).toBe(notThisVote)
  })

  it('refuses an assertion made without user verification, or without presence', () => {
    const refusal = 'the passkey assertion was made without user presence and verification'
    for (const flags of [USER_PRESENT, USER_VERIFIED, 0])
      expect(checkPasskeyVote(facts, passkeyVote(facts, alice, { flags }), expectation())).toBe(refusal)
    // Authenticator data cut short of its flags byte reads as no flags at all.
    const challenge = passkeyVoteChallenge(facts, NONCE)
    const clientData = Buffer.from(
      JSON.stringify({ type: 'webauthn.get', challenge, origin: party.origin, crossOrigin: false }),
    )
    const short = signedAssertion(alice, Buffer.alloc(32), clientData)
    expect(checkPasskeyVote(facts, encodePasskeyVote({ nonce: NONCE, ...short }), expectation())).toBe(
      refusal,
    )
  })

  it('refuses a registration (webauthn.create) and what is not an assertion at all', () => {
    expect(
      checkPasskeyVote(facts, passkeyVote(facts, alice, { type: 'webauthn.create' }), expectation()),
    ).toBe('the passkey vote is not a WebAuthn assertion (webauthn.get)')
    const unreadable = 'the passkey vote is not a readable WebAuthn assertion'
    const assertion = passkeyAssertion(alice, { challenge: passkeyVoteChallenge(facts, NONCE), ...party })
    const withoutNonce = `webauthn:${Buffer.from(JSON.stringify(assertion)).toString('base64url')}`
    for (const signature of ['webauthn:', 'webauthn:bm90IGpzb24', withoutNonce])
      expect(checkPasskeyVote(facts, signature, expectation())).toBe(unreadable)
    const garbledClientData = encodePasskeyVote({ nonce: NONCE, ...assertion, clientDataJSON: 'e30x' })
    expect(checkPasskeyVote(facts, garbledClientData, expectation())).toBe(
      'the passkey vote is not a WebAuthn assertion (webauthn.get)',
    )
  })

  it('applies the rules of every vote first: a registered approver, within the window', () => {
    expect(checkPasskeyVote(facts, passkeyVote(), { ...expectation(), publicKeyPem: null })).toMatch(
      /^"alice" is not a registered approver/,
    )
    const late = { ...expectation(), recordedAt: signedAt + VOTE_WINDOW_MS + 1 }
    expect(checkPasskeyVote(facts, passkeyVote(), late)).toMatch(/more than 5 minutes/)
  })
})
