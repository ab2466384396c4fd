import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadTxFixture } from '../../src/testing/index.js'
import { expectUnusable, runCli } from '../support/cli.js'
import { startTestHandler, transferOfUsd, type TestHandler } from './support.js'

/** `approvals show ID` against a store a real handler wrote: one hold and one approval. */
describe('approvals show', () => {
  let h: TestHandler
  let store: string
  const approved = transferOfUsd(1234.5)
  const heldId = randomUUID()
  const held = { ...loadTxFixture('btc-one-time-address'), requestId: heldId, txId: heldId }

  beforeAll(async () => {
    h = await startTestHandler()
    for (const payload of [approved, held]) expect((await h.send('tx', payload)).status).toBe(200)
    await h.close()
    store = `sqlite:${join(h.dir, 'store.db')}`
  })
  afterAll(async () => h.close().catch(() => undefined))

  const cli = (...args: string[]) => runCli([...args, '--store', store], h.dir)

  it('shows the held request in full: amount, source, destination, rule, quorum, votes and the trace', async () => {
    const result = await cli('approvals', 'show', heldId)
    expect(result.code).toBe(0)
    const [line, ...rest] = result.out.split('\n')
    expect(line).toMatch(
      new RegExp(
        `^${heldId} {2}tx_signing {2}\\S+ BTC \\(7943\\.00 USD\\) from VAULT:11 to ONE_TIME_ADDRESS:1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu {2}rule=one-time-hold .* needs 2 of \\[alice, bob, carol\\] {2}votes: none {2}state: pending`,
      ),
    )
    expect(rest[0]).toBe('trace')
    expect(JSON.parse(rest.slice(1).join('\n'))).toMatchObject({ decided_by: 'rule' })
  })

  it('--json gives the same fields with the trace', async () => {
    const result = await cli('approvals', 'show', heldId, '--json', '--route', 'tx')
    expect(result.code).toBe(0)
    const shown = JSON.parse(result.out) as Record<string, unknown>
    expect(shown).toMatchObject({
      requestId: heldId,
      route: 'tx',
      amountUsd: 7943,
      asset: 'BTC',
      source: 'VAULT:11',
      ruleId: 'one-time-hold',
      quorum: 2,
      approvers: ['alice', 'bob', 'carol'],
      votes: [],
      state: 'pending',
      trace: { decided_by: 'rule' },
    })
    expect(Date.parse(String(shown.expiresAt)) - Date.parse(String(shown.heldAt))).toBe(50 * 60_000)
  })

  it('refuses a request that is not held, saying what became of it', async () => {
    const id = String(approved.requestId)
    expectUnusable(
      await cli('approvals', 'show', id),
      new RegExp(`request ${id} is not held: it was answered APPROVE \\(countersign decisions show ${id}\\)`),
    )
    expectUnusable(
      await cli('approvals', 'show', 'no-such-request'),
      /no request with id no-such-request is awaiting approval/,
    )
    expectUnusable(
      await cli('approvals', 'show', heldId, '--route', 'config'),
      new RegExp(`no request with id ${heldId} is awaiting approval`),
    )
  })
})
