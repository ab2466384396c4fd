import { signStatement, verifyStatement } from './statement-keys.js'
import type { KeyObject } from 'node:crypto'

/**
 * An approver's vote on a held request, as signed: it names the request (route, requestId and the digest
 * of the payload the store recorded), the decision, the approver, the reason and when it was signed, so it
 * cannot be replayed for another request, another route, a changed payload, or much later.
 */
export interface VoteStatement {
  readonly type: 'countersign.vote'
  readonly version: 1
  readonly route: string
  readonly requestId: string
  readonly payloadDigest: string
  readonly decision: 'approve' | 'reject'
  readonly approver: string
  readonly reason: string | null
  /** Milliseconds since the epoch. */
  readonly signedAt: number
}

export type VoteFacts = Omit<VoteStatement, 'type' | 'version'>

/** How far a vote's signing time may be from when the store records it. */
export const VOTE_WINDOW_MS = 5 * 60_000

export function voteStatement(facts: VoteFacts): VoteStatement {
  return {
    type: 'countersign.vote',
    version: 1,
    route: facts.route,
    requestId: facts.requestId,
    payloadDigest: facts.payloadDigest,
    decision: facts.decision,
    approver: facts.approver,
    reason: facts.reason,
    signedAt: facts.signedAt,
  }
}

export function signVote(facts: VoteFacts, privateKey: KeyObject): string {
  return signStatement(voteStatement(facts), privateKey)
}

/** What a vote must be about: the request as the store recorded it, and the approver's registered key. */
export interface VoteExpectation {
  readonly route: string
  readonly requestId: string
  readonly payloadDigest: string
  readonly approver: string
  /** The approver's registered public key (SPKI PEM); null when the approver is not registered. */
  readonly publicKeyPem: string | null
  readonly publicKeyFingerprint?: string
  /** When the vote is (or was) recorded, milliseconds since the epoch. */
  readonly recordedAt: number
}

/**
 * Why a signed vote must not count, or null when it may: the facts it claims must be the recorded
 * request's, it must have been signed within `VOTE_WINDOW_MS` of being recorded, and its signature must
 * verify with the approver's registered key. Each refusal names the cause and the fix.
 */
export function checkVote(facts: VoteFacts, signature: string, expected: VoteExpectation): string | null {
  const refusal = factsRefusal(facts, expected)
  if (refusal !== null) return refusal
  if (!verifyStatement(voteStatement(facts), signature, expected.publicKeyPem!))
    return `the vote's signature does not verify with ${JSON.stringify(expected.approver)}'s registered key${expected.publicKeyFingerprint ? ` (sha256 ${expected.publicKeyFingerprint})` : ''}: sign with ${JSON.stringify(expected.approver)}'s own private key`
  return null
}

/** Why the facts a vote claims are not the recorded request's (or are too old), or null; shared by both kinds of vote. */
export function factsRefusal(facts: VoteFacts, expected: VoteExpectation): string | null {
  const who = JSON.stringify(expected.approver)
  if (facts.approver !== expected.approver)
    return `the vote is signed as ${JSON.stringify(facts.approver)}, not ${who}`
  if (expected.publicKeyPem === null)
    return `${who} is not a registered approver: register their public key with countersign approvers add`
  if (facts.route !== expected.route || facts.requestId !== expected.requestId)
    return `the vote was signed for ${facts.route} request ${JSON.stringify(facts.requestId)}, not ${expected.route} request ${JSON.stringify(expected.requestId)}: a vote counts for the request it names only`
  if (facts.payloadDigest !== expected.payloadDigest)
    return `the vote was signed over payload digest ${facts.payloadDigest.slice(0, 16)}…, but request ${JSON.stringify(expected.requestId)} recorded ${expected.payloadDigest.slice(0, 16)}…: sign the request as it is held (countersign approvals list)`
  if (
    !Number.isSafeInteger(facts.signedAt) ||
    Math.abs(expected.recordedAt - facts.signedAt) > VOTE_WINDOW_MS
  )
    return `the vote was signed at ${describeTime(facts.signedAt)}, more than ${VOTE_WINDOW_MS / 60_000} minutes from ${new Date(expected.recordedAt).toISOString()}: sign it again now (check the signer's clock)`
  return null
}

function describeTime(ms: number): string {
  return Number.isSafeInteger(ms) && Math.abs(ms) < 8.64e15 ? new Date(ms).toISOString() : String(ms)
}
