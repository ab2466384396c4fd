import { describe, expect, it } from 'vitest'
import { resolveHold, type Vote } from './resolve-hold.js'

const REQUIRE = { quorum: 2, approvers: ['alice', 'bob', 'carol'], ttlMs: 50 * 60_000 }
const HELD_AT = new Date('2026-11-24T10:00:00Z')
const minutes = (n: number) => new Date(HELD_AT.getTime() + n * 60_000)
const approve = (approver: string, at = 1): Vote => ({ approver, vote: 'approve', at: minutes(at) })
const reject = (approver: string, reason?: string, at = 1): Vote => ({
  approver,
  vote: 'reject',
  at: minutes(at),
  ...(reason === undefined ? {} : { reason }),
})

describe('resolveHold', () => {
  it('stays pending below the quorum and counts the approvals', () => {
    expect(resolveHold(REQUIRE, HELD_AT, [], minutes(5))).toEqual({ state: 'pending', approvals: 0 })
    expect(resolveHold(REQUIRE, HELD_AT, [approve('alice')], minutes(5))).toEqual({
      state: 'pending',
      approvals: 1,
    })
  })

  it('is approved once the quorum of distinct listed approvers is reached', () => {
    expect(resolveHold(REQUIRE, HELD_AT, [approve('alice'), approve('carol')], minutes(5))).toEqual({
      state: 'approved',
    })
  })

  it('one approver voting twice counts once', () => {
    expect(resolveHold(REQUIRE, HELD_AT, [approve('alice'), approve('alice', 2)], minutes(5))).toEqual({
      state: 'pending',
      approvals: 1,
    })
  })

  it('votes from people not listed are ignored, approvals and vetoes alike', () => {
    const votes = [approve('alice'), approve('mallory'), reject('eve', 'no')]
    expect(resolveHold(REQUIRE, HELD_AT, votes, minutes(5))).toEqual({ state: 'pending', approvals: 1 })
  })

  it('any veto by a listed approver rejects, with their reason', () => {
    const votes = [approve('alice'), reject('bob', 'unknown payee')]
    expect(resolveHold(REQUIRE, HELD_AT, votes, minutes(5))).toEqual({
      state: 'rejected',
      reason: 'rejected by bob: unknown payee',
    })
  })

  it('a veto wins over a quorum reached in the same votes', () => {
    const votes = [approve('alice'), approve('bob'), reject('carol')]
    expect(resolveHold(REQUIRE, HELD_AT, votes, minutes(5))).toEqual({
      state: 'rejected',
      reason: 'rejected by carol',
    })
  })

  it('an approver cannot turn an approval into a veto, or the reverse: their first vote counts', () => {
    expect(
      resolveHold(REQUIRE, HELD_AT, [approve('alice', 1), reject('alice', 'oops', 2)], minutes(5)),
    ).toEqual({
      state: 'pending',
      approvals: 1,
    })
  })

  it('expires: past heldAt + ttl without a quorum is rejected', () => {
    expect(resolveHold(REQUIRE, HELD_AT, [approve('alice')], minutes(50))).toEqual({
      state: 'pending',
      approvals: 1,
    })
    expect(resolveHold(REQUIRE, HELD_AT, [approve('alice')], minutes(51))).toEqual({
      state: 'rejected',
      reason: 'approval quorum not reached within 50 minutes',
    })
  })

  it('a quorum reached in time stays approved after the deadline; votes after it do not count', () => {
    expect(resolveHold(REQUIRE, HELD_AT, [approve('alice', 10), approve('bob', 49)], minutes(55))).toEqual({
      state: 'approved',
    })
    expect(
      resolveHold(REQUIRE, HELD_AT, [approve('alice', 10), approve('bob', 51)], minutes(55)),
    ).toMatchObject({
      state: 'rejected',
    })
  })
})
