import { describe, expect, it } from 'vitest'
import { approverKey, signedVote } from '../../test/support/approvers.js'
import { Action } from '../protocol/index.js'
import { resolveHold } from '../policy/index.js'
import type { RecordedState, RecordedVote, SettleState } from '../storage/index.js'
import { planSettlement } from './settle-plan.js'
import { facts } from '../../test/support/planners.js'

const alice = approverKey()
const bob = approverKey('p256')
const mallory = approverKey()
const heldAt = Date.now()
const request = { route: 'tx' as const, requestId: 'h-1', payloadDigest: 'digest-h-1' }

/** A vote row as the store reads it: signed with `key`, for `approver`, whose registered key is `registered`. */
function row(approver: string, key: typeof alice, registered: string | null, overrides = {}): RecordedVote {
  const vote = signedVote(request, approver, key, { signedAt: heldAt + 1_000, ...overrides })
  return {
    approver,
    vote: vote.decision,
    ...(vote.reason === null ? {} : { reason: vote.reason }),
    at: new Date(heldAt + 2_000),
    signedAt: vote.signedAt,
    signature: vote.signature,
    publicKey: registered,
    credentialId: null,
  }
}

function plan(votes: RecordedVote[]) {
  const recorded: RecordedState = {
    ...request,
    kind: 'tx_signing',
    status: 'held',
    action: Action.retry,
    reason: 'held',
    ruleId: 'quorum',
    policyVersion: '1',
    hold: { quorum: 2, approvers: ['alice', 'bob', 'carol'], ttlMs: 3_600_000 },
    heldAt: new Date(heldAt),
    votes,
    intact: true,
  }
  const state: SettleState = { facts: facts('h-1'), recorded, figures: [], now: new Date(heldAt + 3_000) }
  return planSettlement(state, {
    decide: () => {
      throw new Error('not a new request')
    },
    resolveHold,
  })
}

describe('the handler counts only votes whose signatures verify (fail closed)', () => {
  it('approves with two verified votes (Ed25519 and P-256), naming the approvers with their signatures', () => {
    const votes = [row('alice', alice, alice.publicPem), row('bob', bob, bob.publicPem)]
    expect(plan(votes)).toMatchObject({
      type: 'resolve',
      action: 'APPROVE',
      reason: 'approved by alice, bob (quorum 2 of alice, bob, carol)',
      audit: {
        votes: [
          { approver: 'alice', signature: votes[0]!.signature },
          { approver: 'bob', signature: votes[1]!.signature },
        ],
      },
    })
  })

  it("does not count a vote row written into the database without the approver's key", () => {
    const forged = row('bob', mallory, bob.publicPem)
    const result = plan([row('alice', alice, alice.publicPem), forged])
    expect(result).toEqual({ type: 'repeat' })
  })

  it('does not count an unsigned vote, one whose approver was removed, or one edited after signing', () => {
    const unsigned = { ...row('bob', bob, bob.publicPem), signature: null, signedAt: null }
    const removed = row('bob', bob, null)
    const edited = { ...row('bob', bob, bob.publicPem), reason: 'edited in the database' }
    for (const bad of [unsigned, removed, edited])
      expect(plan([row('alice', alice, alice.publicPem), bad])).toEqual({ type: 'repeat' })
  })

  it('does not let a forged veto reject, and records which votes it did not count', () => {
    const forgedVeto = row('carol', mallory, approverKey().publicPem, { decision: 'reject', reason: 'no' })
    const result = plan([row('alice', alice, alice.publicPem), row('bob', bob, bob.publicPem), forgedVeto])
    expect(result).toMatchObject({
      type: 'resolve',
      action: 'APPROVE',
      audit: { uncountedVotes: [{ approver: 'carol', why: expect.stringMatching(/does not verify/) }] },
    })
  })
})
