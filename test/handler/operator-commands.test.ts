import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadTxFixture } from '../../src/testing/index.js'
import { runCli } from '../support/cli.js'
import { startTestHandler, transferOfUsd, type TestHandler } from './support.js'

/**
 * `decisions list|show` and `velocity show` against a store a real handler wrote: three decisions (an
 * APPROVE, a hold, a REJECT over the vault limit), read back through the in-process CLI.
 */
describe('operator read commands', () => {
  let h: TestHandler
  let store: string
  const approved = transferOfUsd(1234.5)
  const overLimit = transferOfUsd(60_000)
  const heldId = randomUUID()
  const held = { ...loadTxFixture('btc-one-time-address'), requestId: heldId, txId: heldId }

  beforeAll(async () => {
    h = await startTestHandler()
    for (const payload of [approved, held, overLimit]) expect((await h.send('tx', payload)).status).toBe(200)
    await h.close()
    store = `sqlite:${join(h.dir, 'store.db')}`
  })
  afterAll(async () => h.close().catch(() => undefined))

  const cli = (...args: string[]) => runCli([...args, '--store', store], h.dir)

  it('lists decisions newest first with the USD amount, rule and reason of each', async () => {
    const result = await cli('decisions', 'list')
    expect(result.code).toBe(0)
    const lines = result.out.split('\n')
    expect(lines).toHaveLength(3)
    expect(lines[0]).toContain(String(overLimit.requestId))
    expect(lines[0]).toMatch(/REJECT .*60000\.00 USD.* rule=vault-limit {2}reason: over 50,000 USD per vault/)
    expect(lines[1]).toMatch(/RETRY \(held\) .*7943\.00 USD.* rule=one-time-hold/)
    expect(lines[2]).toMatch(
      /APPROVE {2}1\.250000000000000000 ETH \(1234\.50 USD\) from VAULT:0 to VAULT:0x5dC69B1F/,
    )
  })

  it('filters by action, rule, txId and destination, and bounds the count', async () => {
    const ids = async (...args: string[]) => {
      const result = await cli('decisions', 'list', '--json', ...args)
      expect(result.code).toBe(0)
      return (JSON.parse(result.out) as { requestId: string }[]).map((item) => item.requestId)
    }
    expect(await ids('--action', 'approve')).toEqual([approved.requestId])
    expect(await ids('--rule', 'one-time-hold')).toEqual([heldId])
    expect(await ids('--tx-id', String(overLimit.txId))).toEqual([overLimit.requestId])
    expect(await ids('--destination', String((held as Record<string, unknown>).destAddress))).toEqual([
      heldId,
    ])
    expect(await ids('--destination', 'no-such-address')).toEqual([])
    expect(await ids('--limit', '2')).toEqual([overLimit.requestId, heldId])
    expect(await ids('--since', '2000-01-01T00:00:00Z', '--route', 'config')).toEqual([])
  })

  it('refuses a limit that is not a positive whole number', async () => {
    const result = await cli('decisions', 'list', '--limit', '0')
    expect(result.code).toBe(2)
    expect(result.err).toMatch(/--limit: "0" is not a whole number/)
  })

  it('shows one decision with policy version, digest, hold, votes and the trace', async () => {
    // alice votes with her registered approver key, as an operator would.
    const keys = await runCli(['keys', 'generate', '--for', 'approver', '--name', 'alice'], h.dir)
    expect(keys.code).toBe(0)
    expect((await cli('approvers', 'add', 'alice', '--public-key', 'alice.pub')).code).toBe(0)
    const vote = await cli('approvals', 'approve', heldId, '--key', 'alice.key')
    expect(vote.code).toBe(0)
    const text = await cli('decisions', 'show', heldId)
    expect(text.code).toBe(0)
    expect(text.out).toMatch(/answer {4}RETRY \(held for approvers\)/)
    expect(text.out).toMatch(/policy {4}version 7, digest [0-9a-f]{64}/)
    expect(text.out).toContain('hold      2 of [alice, bob, carol] within 50m')
    expect(text.out).toContain('votes     alice:approve')
    expect(text.out).toContain('"decided_by": "rule"')

    const json = await cli('decisions', 'show', heldId, '--json', '--route', 'tx')
    const [detail] = JSON.parse(json.out) as Record<string, unknown>[]
    expect(detail).toMatchObject({
      requestId: heldId,
      action: 'RETRY',
      status: 'held',
      ruleId: 'one-time-hold',
      policyVersion: '7',
      amountUsd: 7943,
      asset: 'BTC',
      votes: [{ approver: 'alice', vote: 'approve' }],
      trace: { decided_by: 'rule' },
    })
    expect(Date.parse(String(detail!.decidedAt))).toBeLessThanOrEqual(Date.parse(String(detail!.updatedAt)))
  })

  it('says so when nothing is recorded for a requestId', async () => {
    const result = await cli('decisions', 'show', 'no-such-request')
    expect(result).toMatchObject({
      code: 1,
      out: '',
      err: 'no decision is recorded for request no-such-request',
    })
  })

  it('shows how much of each velocity window is used against the limit the rules set', async () => {
    const result = await cli('velocity', 'show', '--policy', 'policy.yaml')
    expect(result.code).toBe(0)
    // The APPROVE and the hold (from another vault) count, a hold keeping its room; the REJECT does not.
    expect(result.out.split('\n')).toEqual([
      'vault_24h (1d)  [source.id=0]  1234.50 USD in 1 request(s)  2% of 50000.00 USD (rule vault-limit)',
      'vault_24h (1d)  [source.id=11]  7943.00 USD in 1 request(s)  16% of 50000.00 USD (rule vault-limit)',
    ])
    const json = JSON.parse(
      (await cli('velocity', 'show', '--policy', 'policy.yaml', '--json')).out,
    ) as unknown[]
    expect(json).toHaveLength(2)
    expect(json[0]).toMatchObject({
      window: 'vault_24h',
      group: 'source.id=0',
      sumUsd: 1234.5,
      count: 1,
      limits: [{ ruleId: 'vault-limit', metric: 'sum_usd', value: 50000, used: 0.02469 }],
    })
  })

  it('audit verify --json and policy replay --json report what their text says', async () => {
    const audit = await cli('audit', 'verify', '--json')
    expect(audit.code).toBe(0)
    const verified = JSON.parse(audit.out) as { ok: boolean; entries: number; headHash: string }
    // Three decisions, alice's registration and her vote, each an audit entry.
    expect(verified).toMatchObject({ ok: true, entries: 5 })
    expect(verified.headHash).toMatch(/^[0-9a-f]{64}$/)

    const replay = await runCli(
      ['policy', 'replay', '--candidate', 'policy.yaml', '--store', store, '--json'],
      h.dir,
    )
    expect(replay.code).toBe(0)
    expect(JSON.parse(replay.out)).toEqual({ replayed: 3, candidateVersion: '7', changed: [] })
  })
})
