import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { systemClock } from '../../core/index.js'
import { rawExec, rawQuery, testDatabases } from '../../../test/support/databases.js'
import { facts, fixed, planner, verdict } from '../../../test/support/planners.js'
import { RecordRefused, openStore, type Planner, type Store } from '../index.js'

describe.each(testDatabases)('decisions on $name', (database) => {
  let store: Store
  let url: string
  const now = 1_700_000_000_000
  const open = async () => {
    url = await database.freshUrl()
    store = await openStore(url, { clock: { ...systemClock, now: () => now } })
    return store
  }
  afterEach(async () => {
    await store?.close()
  })
  afterAll(() => database.dropAll())

  it('upgrades a store recorded before 0002_lean_indexes: held and decided requests are still found', async () => {
    await open()
    const hold = { quorum: 1, approvers: ['alice'], ttlMs: 3_600_000 }
    await store.settle(
      facts('held-1'),
      planner(() => verdict({ action: 'RETRY', reason: 'held', hold })),
    )
    await store.settle(facts('final-1', 'digest-final-1', 'config'), fixed())
    await store.close()
    // The store as 0001 left it: the two indexes back, the partial one and its migration record gone.
    await rawExec(
      url,
      `DROP INDEX decisions_held;
       CREATE INDEX decisions_by_request ON decisions (request_id);
       CREATE INDEX decisions_by_status ON decisions (status);
       DELETE FROM storage_migrations WHERE owner = 'decisions' AND name = '0002_lean_indexes';`,
    )
    store = await openStore(url, { clock: { ...systemClock, now: () => now } })
    const indexes = await rawQuery<{ name: string }>(
      url,
      database.name === 'postgres'
        ? `SELECT indexname AS name FROM pg_indexes WHERE tablename = 'decisions' AND schemaname = current_schema()`
        : `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'decisions'`,
    )
    expect(indexes.map(({ name }) => name).sort()).toEqual(
      expect.arrayContaining(['decisions_by_time', 'decisions_held']),
    )
    expect(indexes.map(({ name }) => name)).not.toContain('decisions_by_request')
    expect(indexes.map(({ name }) => name)).not.toContain('decisions_by_status')
    expect(await store.countHeld()).toBe(1)
    expect((await store.listHeld()).map((held) => held.requestId)).toEqual(['held-1'])
    expect(await store.readDecision('final-1')).toMatchObject([{ route: 'config', action: 'APPROVE' }])
    const repeat = fixed()
    expect(await store.settle(facts('final-1', 'digest-final-1', 'config'), repeat)).toMatchObject({
      outcome: 'repeated',
    })
    expect(repeat.calls).toBe(0)
    expect(await store.verifyAudit()).toMatchObject({ ok: true })
  })

  it('decides a request once and answers a retry with the recorded decision', async () => {
    await open()
    const decider = fixed({ action: 'REJECT', reason: 'not on the list', ruleId: 'deny' })
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

  it('answers an altered replay as its plan says and audits the alert', async () => {
    await open()
    await store.settle(facts('r-2'), fixed())
    const replay = await store.settle(facts('r-2', 'another-digest'), fixed())
    expect(replay).toMatchObject({ outcome: 'altered', action: 'REJECT' })
    const events = []
    for await (const entry of store.readAudit()) events.push(entry.event)
    expect(events).toEqual(['decision', 'replay-altered'])
  })

  it('produces exactly one decision for concurrent deliveries of one request', async () => {
    await open()
    const decider = fixed()
    const results = await Promise.all(Array.from({ length: 40 }, () => store.settle(facts('r-3'), decider)))
    expect(results.filter((result) => result.outcome === 'decided')).toHaveLength(1)
    expect(new Set(results.map((result) => result.action))).toEqual(new Set(['APPROVE']))
    expect(decider.calls).toBe(1)
  })

  it('keeps the route in a request identity: the other route never inherits an answer', async () => {
    await open()
    await store.settle(facts('x-1', 'same-digest', 'tx'), fixed({ action: 'APPROVE' }))
    const configSide = fixed({ action: 'REJECT', reason: 'not a configuration change' })
    expect(await store.settle(facts('x-1', 'same-digest', 'config'), configSide)).toMatchObject({
      outcome: 'decided',
      action: 'REJECT',
    })
    expect(configSide.calls).toBe(1)
    // And the other way round: a REJECT recorded on the wrong route first is not inherited by the genuine one.
    await store.settle(facts('x-2', 'd', 'config'), fixed({ action: 'REJECT' }))
    expect(await store.settle(facts('x-2', 'd', 'tx'), fixed({ action: 'APPROVE' }))).toMatchObject({
      outcome: 'decided',
      action: 'APPROVE',
    })
  })

  it('fails only the request whose planner throws, not the batch it was recorded with', async () => {
    await open()
    const failing: Planner = {
      series: [],
      plan: () => {
        throw new Error('boom')
      },
    }
    const results = await Promise.allSettled([
      store.settle(facts('g-1'), fixed()),
      store.settle(facts('g-2'), failing),
      store.settle(facts('g-3'), fixed({ action: 'REJECT' })),
    ])
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect((await store.listDecisions(0)).map((decision) => decision.requestId).sort()).toEqual([
      'g-1',
      'g-3',
    ])
    expect(await store.verifyAudit()).toMatchObject({ ok: true, entries: 2 })
  })

  it('fails only the request the database refuses, never the batch it was recorded with', async () => {
    await open()
    // A row the database refuses (NOT NULL): on today's code the whole batch failed with it.
    const broken = { ...facts('b-bad'), requestJson: null as unknown as string }
    const results = await Promise.allSettled([
      ...Array.from({ length: 20 }, (_, i) => store.settle(facts(`b-${i}`), fixed())),
      store.settle(broken, fixed()),
    ])
    expect(results.slice(0, 20).every((result) => result.status === 'fulfilled')).toBe(true)
    expect(results[20]!.status).toBe('rejected')
    expect(await store.verifyAudit()).toMatchObject({ ok: true, entries: 20, decisions: 20 })
  })

  it.each([
    ['a lone surrogate', 'id-\ud800'],
    ['a NUL', 'id-\u0000-x'],
    ['too long an id', 'x'.repeat(1_025)],
  ])('refuses %s before batching, and 60 concurrent requests are unaffected', async (_, requestId) => {
    await open()
    const results = await Promise.allSettled([
      ...Array.from({ length: 60 }, (_, i) => store.settle(facts(`n-${i}`), fixed())),
      store.settle(facts(requestId), fixed()),
      store.settle(facts(requestId), fixed()),
    ])
    expect(results.slice(0, 60).filter((result) => result.status === 'fulfilled')).toHaveLength(60)
    for (const refused of results.slice(60)) {
      expect(refused.status).toBe('rejected')
      expect(refused.status === 'rejected' && refused.reason).toBeInstanceOf(RecordRefused)
    }
    expect(await store.verifyAudit()).toMatchObject({ ok: true, entries: 60 })
  })

  it('records 600 concurrent requests without a RETRY (batches stay within SQLite limits)', async () => {
    await open()
    const series = Array.from({ length: 3 }, (_, i) => ({
      windowId: `w${i}`,
      groupKey: 'g',
      windowMs: 86_400_000,
      bucketMs: 300_000,
      amountUsdCents: 1,
    }))
    const results = await Promise.allSettled(
      Array.from({ length: 600 }, (_, i) =>
        store.settle(
          facts(`c-${i}`),
          planner(
            () => verdict(),
            series.map((item) => ({ ...item, groupKey: `g${i}` })),
          ),
        ),
      ),
    )
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(600)
  })

  it('serves a decision row edited in the database as its plan says (tampered), never the edit', async () => {
    await open()
    await store.settle(facts('t-1'), fixed({ action: 'REJECT', reason: 'blocked' }))
    await rawExec(url, `UPDATE decisions SET action = 'APPROVE', reason = NULL WHERE request_id = 't-1'`)
    expect(await store.settle(facts('t-1'), fixed())).toMatchObject({ outcome: 'tampered', action: 'REJECT' })
    const verification = await store.verifyAudit()
    expect(verification.ok).toBe(false)
    expect(!verification.ok && verification.problem).toMatch(/t-1.*altered/)
  })

  it('keeps decisions across a reopen', async () => {
    await open()
    await store.settle(facts('p-1'), fixed())
    await store.close()
    store = await openStore(url, { clock: { ...systemClock, now: () => now } })
    expect(await store.settle(facts('p-1'), fixed({ action: 'REJECT' }))).toMatchObject({
      outcome: 'repeated',
      action: 'APPROVE',
    })
  })
})
