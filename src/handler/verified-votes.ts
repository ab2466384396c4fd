import { checkPasskeyVote, checkVote } from '../keys/index.js'
import type { RecordedState, RecordedVote } from '../storage/index.js'

export interface UncountedVote {
  readonly approver: string
  readonly why: string
}

/**
 * Splits a held request's recorded votes into those that count and those that do not. A vote counts only
 * if its signature verifies, now, with its approver's registered key over this request as recorded (route,
 * requestId, payload digest) and was signed within the window of being recorded: a vote row inserted or
 * edited in the database, or whose approver was removed, never counts (fail closed). A console vote counts
 * on the same terms, with the passkey it names in place of the approver's key.
 */
export function verifiedVotes(recorded: RecordedState): {
  counted: RecordedVote[]
  uncounted: UncountedVote[]
} {
  const counted: RecordedVote[] = []
  const uncounted: UncountedVote[] = []
  for (const vote of recorded.votes) {
    const why = refusalOf(recorded, vote)
    if (why === null) counted.push(vote)
    else uncounted.push({ approver: vote.approver, why })
  }
  return { counted, uncounted }
}

function refusalOf(recorded: RecordedState, vote: RecordedVote): string | null {
  if (vote.signature === null || vote.signedAt === null) return 'the vote is not signed'
  // A console vote is a passkey assertion, verified again here exactly as a signed CLI vote is.
  const check = vote.credentialId === null ? checkVote : checkPasskeyVote
  return check(
    {
      route: recorded.route,
      requestId: recorded.requestId,
      payloadDigest: recorded.payloadDigest,
      decision: vote.vote,
      approver: vote.approver,
      reason: vote.reason ?? null,
      signedAt: vote.signedAt,
    },
    vote.signature,
    {
      route: recorded.route,
      requestId: recorded.requestId,
      payloadDigest: recorded.payloadDigest,
      approver: vote.approver,
      publicKeyPem: vote.publicKey,
      recordedAt: vote.at.getTime(),
    },
  )
}
