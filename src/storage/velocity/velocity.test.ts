import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { systemClock } from '../../core/index.js'
import { testDatabases } from '../../../test/support/databases.js'
import { facts, limitPlanner, planner, verdict, window50k } from '../../../test/support/planners.js'
import {
  approverKey,
  signedVote,
  voteVerifier as checkVote,
  type ApproverKey,
} from '../../../test/support/approvers.js'
import { NotFound, openStore, type SettlePlan, type SettleState, type Store } from '../index.js'

describe.each(testDatabases)('velocity on $name', (database) => {
  let store: Store
  let now = 1_700_000_000_000
  let alice: ApproverKey
  const open = async () => {
    store = await openStore(await database.freshUrl(), { clock: { ...systemClock, now: () => now } })
    alice = approverKey()
    await store.addApprover({ id: 'alice', publicKey: alice.publicPem, fingerprint: alice.fingerprint })
  }
  /** alice's signed vote on a held tx request, recorded by the store. */
  const vote = (requestId: string, decision: 'approve' | 'reject') =>
    store.castVote(
      { route: 'tx', requestId },
      signedVote({ route: 'tx', requestId, payloadDigest: `digest-${requestId}` }, 'alice', alice, {
        decision,
        signedAt: now,
      }),
      checkVote,
    )
  afterEach(async () => {
    await store?.close()
    now = 1_700_000_000_000
  })
  afterAll(() => database.dropAll())

  it('never lets 200 concurrent 1,000 USD requests pass a 50,000 USD window together', async () => {
    await open()
    const limit = limitPlanner()
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => store.settle(facts(`v-${i}`), limit)),
    )
    expect(results.filter((result) => result.action === 'APPROVE')).toHaveLength(50)
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.settle(facts(`v-${i}`), limit)))
    expect((await store.settle(facts('v-late'), limit)).action).toBe('REJECT')
  })

  it('releases a reservation once, making room in the window again', async () => {
    await open()
    for (let i = 0; i < 50; i++) await store.settle(facts(`w-${i}`), limitPlanner())
    expect((await store.settle(facts('w-full'), limitPlanner())).action).toBe('REJECT')
    expect(await store.releaseVelocity('w-3')).toEqual([
      { windowId: 'vault_24h', groupKey: 'source.id=0', amountUsdCents: 100_000 },
    ])
    await expect(store.releaseVelocity('w-3')).rejects.toBeInstanceOf(NotFound)
    expect((await store.settle(facts('w-after-release'), limitPlanner())).action).toBe('APPROVE')
  })

  it('forgets amounts once their whole bucket has left the window', async () => {
    await open()
    for (let i = 0; i < 50; i++) await store.settle(facts(`x-${i}`), limitPlanner())
    now += 86_400_000 + 300_000
    expect((await store.settle(facts('x-next-day'), limitPlanner())).action).toBe('APPROVE')
  })

  it('errs long: an approval counts while any part of its bucket is inside the window', async () => {
    await open()
    // Approved 4 minutes into a 5-minute bucket, then asked again 23 h 58 min later: still in the window.
    now = Math.floor(now / 300_000) * 300_000 + 240_000
    const big = { ...window50k, amountUsdCents: 5_000_000 }
    expect((await store.settle(facts('y-1'), limitPlanner(big))).action).toBe('APPROVE')
    now += 86_400_000 - 120_000
    expect((await store.settle(facts('y-2'), limitPlanner(big))).action).toBe('REJECT')
  })

  it('keeps a held amount counted while humans decide: a quorum never passes the limit', async () => {
    await open()
    const hold = { quorum: 1, approvers: ['alice'], ttlMs: 3_600_000 }
    const held = { ...window50k, amountUsdCents: 2_000_000 }
    const resolve = (state: SettleState): SettlePlan =>
      state.recorded!.votes.some((vote) => vote.vote === 'approve')
        ? { type: 'resolve', action: 'APPROVE', reason: 'quorum', release: false, audit: {} }
        : { type: 'repeat' }
    const holding = planner(
      ([figures]) =>
        figures!.sumUsdCents + held.amountUsdCents > 5_000_000
          ? verdict({ action: 'REJECT', reason: 'over the limit' })
          : verdict({ action: 'RETRY', reason: 'held', hold }),
      [held],
      resolve,
    )
    expect((await store.settle(facts('h-big'), holding)).action).toBe('RETRY')
    const small = await Promise.all(
      Array.from({ length: 50 }, (_, i) => store.settle(facts(`s-${i}`), limitPlanner())),
    )
    expect(small.filter((result) => result.action === 'APPROVE')).toHaveLength(30)
    await vote('h-big', 'approve')
    expect((await store.settle(facts('h-big'), holding)).action).toBe('APPROVE')
    // 20,000 + 30 × 1,000 = 50,000: exactly the limit, never past it.
    expect(
      (await store.settle(facts('after'), limitPlanner({ ...window50k, amountUsdCents: 1 }))).action,
    ).toBe('REJECT')
  })

  it('gives a rejected hold its room back', async () => {
    await open()
    const hold = { quorum: 1, approvers: ['alice'], ttlMs: 3_600_000 }
    const held = { ...window50k, amountUsdCents: 5_000_000 }
    const holding = planner(
      () => verdict({ action: 'RETRY', reason: 'held', hold }),
      [held],
      (state) =>
        state.recorded!.votes.length > 0
          ? { type: 'resolve', action: 'REJECT', reason: 'vetoed', release: true, audit: {} }
          : { type: 'repeat' },
    )
    await store.settle(facts('h-veto'), holding)
    expect((await store.settle(facts('blocked'), limitPlanner())).action).toBe('REJECT')
    await vote('h-veto', 'reject')
    expect((await store.settle(facts('h-veto'), holding)).action).toBe('REJECT')
    expect((await store.settle(facts('room-again'), limitPlanner())).action).toBe('APPROVE')
  })
})
