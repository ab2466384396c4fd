import { afterEach, describe, expect, it } from 'vitest'
import { rawExec, testDatabases } from '../../test/support/databases.js'
import { ManualClock } from '../core/index.js'
import {
  ALTERED_REPLAY_REASON,
  NotFound,
  StoreConflict,
  openStore,
  type Decider,
  type RequestFacts,
  type Store,
  type Verdict,
  type VelocitySeries,
} from './index.js'

const POLICY = { policyVersion: '1', policyDigest: 'd'.repeat(64) }

function facts(requestId: string, digest = `digest-${requestId}`): RequestFacts {
  return {
    requestId,
    payloadDigest: digest,
    kind: 'tx_signing',
    signerId: 'api-user-1',
    summary: { txId: requestId, source: 'VAULT:0', destination: 'VAULT:1', asset: 'ETH', amount: '1' },
    requestJson: JSON.stringify({ requestId }),
    receivedAt: 1_000,
  }
}

function fixedDecider(verdict: Partial<Verdict>, series: VelocitySeries[] = []): Decider & { calls: number } {
  const decider = {
    calls: 0,
    series,
    decide() {
      decider.calls++
      return { action: 'APPROVE', reason: null, ruleId: 'r1', trace: {}, ...POLICY, ...verdict } as Verdict
    },
    resolveHold: () => ({ state: 'pending', approvals: 0 }) as const,
  }
  return decider
}

const window50k: VelocitySeries = {
  windowId: 'vault_24h',
  groupKey: 'source.id=0',
  windowMs: 86_400_000,
  bucketMs: 300_000,
  amountUsdCents: 100_000,
}

/** Approves while the window stays within 50,000 USD, as a velocity rule would. */
const limitDecider: Decider = {
  series: [window50k],
  decide: ([figures]) =>
    figures!.sumUsdCents + window50k.amountUsdCents <= 5_000_000
      ? { action: 'APPROVE', reason: null, ruleId: 'within-limit', trace: {}, ...POLICY }
      : { action: 'REJECT', reason: 'over 50,000 USD / 24h', ruleId: 'limit', trace: {}, ...POLICY },
  resolveHold: () => ({ state: 'pending', approvals: 0 }),
}

describe.each(testDatabases)('store on $name', (database) => {
  let store: Store
  let url: string
  const clock = new ManualClock(1_700_000_000_000)
  const open = async () => {
    url = await database.freshUrl()
    store = await openStore(url, { clock })
    return store
  }
  afterEach(async () => {
    await store?.close()
  })

  it('decides a request once and answers a retry with the recorded decision', async () => {
    await open()
    const decider = fixedDecider({ action: 'REJECT', reason: 'not on the list', ruleId: 'deny' })
    const first = await store.settle(facts('r-1'), decider)
    const second = await store.settle(facts('r-1'), decider)
    expect(first).toMatchObject({ outcome: 'decided', action: 'REJECT', reason: 'not on the list' })
    expect(second).toMatchObject({
      outcome: 'repeated',
      action: 'REJECT',
      reason: 'not on the list',
      ruleId: 'deny',
    })
    expect(decider.calls).toBe(1)
  })

  it('rejects a known requestId with a different payload and audits the alert', async () => {
    await open()
    await store.settle(facts('r-2'), fixedDecider({ action: 'APPROVE' }))
    const replay = await store.settle(facts('r-2', 'another-digest'), fixedDecider({ action: 'APPROVE' }))
    expect(replay).toMatchObject({ outcome: 'altered', action: 'REJECT', reason: ALTERED_REPLAY_REASON })
    const events = []
    for await (const entry of store.readAudit()) events.push(entry.event)
    expect(events).toEqual(['decision', 'replay-altered'])
  })

  it('produces exactly one decision for concurrent deliveries of one request', async () => {
    await open()
    const decider = fixedDecider({ action: 'APPROVE' })
    const results = await Promise.all(Array.from({ length: 40 }, () => store.settle(facts('r-3'), decider)))
    expect(results.filter((result) => result.outcome === 'decided')).toHaveLength(1)
    expect(new Set(results.map((result) => result.action))).toEqual(new Set(['APPROVE']))
    expect(decider.calls).toBe(1)
  })

  it('never lets 200 concurrent 1,000 USD requests pass a 50,000 USD window together', async () => {
    await open()
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => store.settle(facts(`v-${i}`), limitDecider)),
    )
    expect(results.filter((result) => result.action === 'APPROVE')).toHaveLength(50)
    // Retrying approved requests must not count them twice.
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.settle(facts(`v-${i}`), limitDecider)))
    const next = await store.settle(facts('v-late'), limitDecider)
    expect(next.action).toBe('REJECT')
  })

  it('releases a reservation once, making room in the window again', async () => {
    await open()
    for (let i = 0; i < 50; i++) await store.settle(facts(`w-${i}`), limitDecider)
    expect((await store.settle(facts('w-full'), limitDecider)).action).toBe('REJECT')
    const released = await store.releaseVelocity('w-3')
    expect(released).toEqual([{ windowId: 'vault_24h', groupKey: 'source.id=0', amountUsdCents: 100_000 }])
    await expect(store.releaseVelocity('w-3')).rejects.toBeInstanceOf(NotFound)
    expect((await store.settle(facts('w-after-release'), limitDecider)).action).toBe('APPROVE')
  })

  it('forgets amounts once they leave the window', async () => {
    await open()
    for (let i = 0; i < 50; i++) await store.settle(facts(`x-${i}`), limitDecider)
    clock.advance(86_400_000 + 300_000)
    expect((await store.settle(facts('x-next-day'), limitDecider)).action).toBe('APPROVE')
  })

  it('holds a request for a quorum, refuses bad votes, and resolves on the next delivery', async () => {
    await open()
    const hold = { quorum: 2, approvers: ['alice', 'bob', 'carol'], ttlMs: 3_000_000 }
    const decider: Decider = {
      series: [window50k],
      decide: () => ({
        action: 'RETRY',
        reason: 'held for 2 approvers',
        ruleId: 'ota',
        trace: {},
        hold,
        ...POLICY,
      }),
      resolveHold: (_hold, _heldAt, votes) =>
        votes.filter((vote) => vote.vote === 'approve').length >= 2
          ? { state: 'approved' }
          : { state: 'pending', approvals: votes.length },
    }
    expect(await store.settle(facts('h-1'), decider)).toMatchObject({ outcome: 'decided', action: 'RETRY' })
    expect((await store.listHeld()).map((held) => held.requestId)).toEqual(['h-1'])
    await expect(
      store.castVote({ requestId: 'h-1', approver: 'mallory', vote: 'approve' }),
    ).rejects.toBeInstanceOf(StoreConflict)
    await store.castVote({ requestId: 'h-1', approver: 'alice', vote: 'approve' })
    await expect(store.castVote({ requestId: 'h-1', approver: 'alice', vote: 'approve' })).rejects.toThrow(
      /already voted/,
    )
    expect(await store.settle(facts('h-1'), decider)).toMatchObject({ outcome: 'repeated', action: 'RETRY' })
    await store.castVote({ requestId: 'h-1', approver: 'carol', vote: 'approve' })
    expect(await store.settle(facts('h-1'), decider)).toMatchObject({
      outcome: 'resolved',
      action: 'APPROVE',
    })
    expect(await store.settle(facts('h-1'), decider)).toMatchObject({
      outcome: 'repeated',
      action: 'APPROVE',
    })
    expect(await store.listHeld()).toEqual([])
    await expect(store.castVote({ requestId: 'h-1', approver: 'bob', vote: 'reject' })).rejects.toThrow(
      /already decided/,
    )
    // The approved hold counts in the window.
    expect(await store.releaseVelocity('h-1')).toHaveLength(1)
  })

  it('fails only the request whose decider throws, not the batch it was recorded with', async () => {
    await open()
    const failing: Decider = {
      ...fixedDecider({}),
      decide: () => {
        throw new Error('boom')
      },
    }
    const results = await Promise.allSettled([
      store.settle(facts('g-1'), fixedDecider({ action: 'APPROVE' })),
      store.settle(facts('g-2'), failing),
      store.settle(facts('g-3'), fixedDecider({ action: 'REJECT' })),
    ])
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect((await store.listDecisions(0)).map((decision) => decision.requestId).sort()).toEqual([
      'g-1',
      'g-3',
    ])
    expect(await store.verifyAudit()).toMatchObject({ ok: true, entries: 2 })
  })

  it('verifies the audit chain and names the first altered entry', async () => {
    await open()
    for (let i = 0; i < 5; i++) await store.settle(facts(`a-${i}`), fixedDecider({ action: 'APPROVE' }))
    expect(await store.verifyAudit()).toMatchObject({ ok: true, entries: 5 })
    await rawExec(
      url,
      `UPDATE audit_log SET body_json = replace(body_json, '"APPROVE"', '"REJECT"') WHERE seq = 3`,
    )
    expect(await store.verifyAudit()).toMatchObject({
      ok: false,
      brokenSeq: 3,
      problem: expect.stringMatching(/altered/),
    })
  })

  it('detects a deleted audit entry', async () => {
    await open()
    for (let i = 0; i < 4; i++) await store.settle(facts(`d-${i}`), fixedDecider({ action: 'APPROVE' }))
    await rawExec(url, 'DELETE FROM audit_log WHERE seq = 2')
    expect(await store.verifyAudit()).toMatchObject({ ok: false, brokenSeq: 3 })
  })

  it('keeps decisions across a reopen', async () => {
    await open()
    await store.settle(facts('p-1'), fixedDecider({ action: 'APPROVE' }))
    await store.close()
    store = await openStore(url, { clock })
    expect(await store.settle(facts('p-1'), fixedDecider({ action: 'REJECT' }))).toMatchObject({
      outcome: 'repeated',
      action: 'APPROVE',
    })
  })
})
