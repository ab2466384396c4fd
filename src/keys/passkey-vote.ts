import { createHash, createPublicKey, verify } from 'node:crypto'
import { canonicalJson } from '../core/index.js'
import { factsRefusal, voteStatement, type VoteExpectation, type VoteFacts } from './approver-vote.js'

/**
 * A vote cast in the console: a WebAuthn assertion by one of the approver's passkeys. Its challenge is the
 * SHA-256 of the vote statement (request, payload digest, decision, approver, reason, time) and a nonce the
 * handler issued once, so the authenticator's signature binds exactly that decision on exactly that request,
 * and can be verified again, like a signed CLI vote, every time the hold is settled.
 */
export interface PasskeyAssertion {
  /** The single-use nonce the handler issued with the challenge (base64url). */
  readonly nonce: string
  /** The authenticator's data, the client data JSON and the signature over both, base64url. */
  readonly authenticatorData: string
  readonly clientDataJSON: string
  readonly signature: string
}

/** How a passkey vote's `signature` column starts: the rest is the assertion, base64url JSON. */
const PREFIX = 'webauthn:'

/** Authenticator data flags: the user was present (UP) and verified (UV: PIN or biometrics). */
const USER_PRESENT = 0x01
const USER_VERIFIED = 0x04
/** rpIdHash (32 bytes), then the flags byte. */
const FLAGS_OFFSET = 32

const base64url = (bytes: Buffer) => bytes.toString('base64url')

/** The WebAuthn challenge of a vote: base64url SHA-256 of its statement with the nonce. */
export function passkeyVoteChallenge(facts: VoteFacts, nonce: string): string {
  const statement = { ...voteStatement(facts), nonce }
  return base64url(createHash('sha256').update(canonicalJson(statement)).digest())
}

export function encodePasskeyVote(assertion: PasskeyAssertion): string {
  const { nonce, authenticatorData, clientDataJSON, signature } = assertion
  return (
    PREFIX + base64url(Buffer.from(JSON.stringify({ nonce, authenticatorData, clientDataJSON, signature })))
  )
}

export function isPasskeyVote(signature: string): boolean {
  return signature.startsWith(PREFIX)
}

function decodePasskeyVote(signature: string): PasskeyAssertion | undefined {
  try {
    const parsed = JSON.parse(
      Buffer.from(signature.slice(PREFIX.length), 'base64url').toString('utf8'),
    ) as unknown
    const fields = ['nonce', 'authenticatorData', 'clientDataJSON', 'signature'] as const
    const record = parsed as Record<string, unknown>
    if (typeof parsed !== 'object' || parsed === null || fields.some((f) => typeof record[f] !== 'string'))
      return undefined
    return parsed as PasskeyAssertion
  } catch {
    return undefined
  }
}

function clientChallenge(clientDataJSON: Buffer): { type?: unknown; challenge?: unknown } {
  try {
    return JSON.parse(clientDataJSON.toString('utf8')) as { type?: unknown; challenge?: unknown }
  } catch {
    return {}
  }
}

/** Verifies the authenticator's signature over authenticatorData || SHA-256(clientDataJSON). */
function signatureVerifies(assertion: PasskeyAssertion, publicKeyPem: string): boolean {
  const key = createPublicKey(publicKeyPem)
  const clientData = Buffer.from(assertion.clientDataJSON, 'base64url')
  const signed = Buffer.concat([
    Buffer.from(assertion.authenticatorData, 'base64url'),
    createHash('sha256').update(clientData).digest(),
  ])
  const signature = Buffer.from(assertion.signature, 'base64url')
  if (key.asymmetricKeyType === 'ed25519') return verify(null, signed, key, signature)
  // ES256 (DER-encoded, as WebAuthn sends it) and RS256.
  return verify('sha256', signed, { key, dsaEncoding: 'der' }, signature)
}

/**
 * Why a passkey vote must not count, or null when it may: the same rules on its facts as a signed CLI vote
 * (`checkVote`), then the assertion: a `webauthn.get` whose challenge is this vote's, made with the user
 * present and verified, signed by the passkey (`expected.publicKeyPem`, the approver's enrolled credential).
 */
export function checkPasskeyVote(
  facts: VoteFacts,
  signature: string,
  expected: VoteExpectation,
): string | null {
  const refusal = factsRefusal(facts, expected)
  if (refusal !== null) return refusal
  const assertion = decodePasskeyVote(signature)
  if (assertion === undefined) return 'the passkey vote is not a readable WebAuthn assertion'
  const client = clientChallenge(Buffer.from(assertion.clientDataJSON, 'base64url'))
  if (client.type !== 'webauthn.get') return 'the passkey vote is not a WebAuthn assertion (webauthn.get)'
  if (client.challenge !== passkeyVoteChallenge(facts, assertion.nonce))
    return "the passkey assertion's challenge is not this vote's: it was made for another request or decision"
  const flags = Buffer.from(assertion.authenticatorData, 'base64url')[FLAGS_OFFSET] ?? 0
  if ((flags & USER_PRESENT) === 0 || (flags & USER_VERIFIED) === 0)
    return 'the passkey assertion was made without user presence and verification'
  let verified: boolean
  try {
    verified = signatureVerifies(assertion, expected.publicKeyPem!)
  } catch {
    verified = false
  }
  if (!verified)
    return `the passkey assertion does not verify with ${JSON.stringify(expected.approver)}'s enrolled passkey`
  return null
}
