import { randomUUID } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadTxFixture } from '../../src/testing/index.js'
import { TEST_POLICY, startTestHandler, type TestHandler } from './support.js'

/** The handler's /metrics and its decision log lines, over real HTTP. */
describe('handler metrics and logs', () => {
  let h: TestHandler
  const fresh = (name: string) => {
    const requestId = randomUUID()
    return { ...loadTxFixture(name), requestId, txId: requestId }
  }
  const scrape = async () => (await fetch(`${h.url}/metrics`)).text()

  beforeAll(async () => {
    h = await startTestHandler()
    for (const name of ['eth-transfer-approval', 'eth-transfer-signing', 'btc-one-time-address'])
      expect((await h.send('tx', fresh(name))).status).toBe(200)
    expect((await h.post('tx', 'not.a.jwt')).status).toBe(401)
  })
  afterAll(async () => h.close())

  it('counts approval and signing apart, each with the rule that decided', async () => {
    const metrics = await scrape()
    expect(metrics).toMatch(
      /countersign_decisions_total\{action="APPROVE",kind="tx_approval",rule="approve-whitelisted",outcome="decided"\} 1\n/,
    )
    expect(metrics).toMatch(
      /countersign_decisions_total\{action="APPROVE",kind="tx_signing",rule="small-whitelisted",outcome="decided"\} 1\n/,
    )
    expect(metrics).toMatch(
      /countersign_decisions_total\{action="RETRY",kind="tx_signing",rule="one-time-hold",outcome="decided"\} 1\n/,
    )
    expect(metrics).not.toMatch(/kind="tx"/)
  })

  it('exposes build info, process metrics, the policy in force and the pending holds', async () => {
    const metrics = await scrape()
    expect(metrics).toContain(`countersign_build_info{version="0.1.0",node="${process.versions.node}"} 1`)
    expect(metrics).toMatch(/^process_cpu_user_seconds_total \d/m)
    expect(metrics).toMatch(/^nodejs_heap_size_used_bytes \d/m)
    expect(metrics).toMatch(/^countersign_policy_info\{version="7",digest="[0-9a-f]{64}"\} 1$/m)
    expect(metrics).toMatch(/^countersign_pending_holds 1$/m)
  })

  it('counts a refused reload and names the policy that replaced the old one', async () => {
    const policyPath = join(h.dir, 'policy.yaml')
    writeFileSync(policyPath, 'version: 8\ndefaults: nonsense\n')
    expect(h.handler.reloadPolicy()).toBe(false)
    let metrics = await scrape()
    expect(metrics).toMatch(/^countersign_policy_reload_failures_total 1$/m)
    expect(metrics).toMatch(/^countersign_policy_info\{version="7",/m)

    writeFileSync(policyPath, TEST_POLICY.replace('version: 7', 'version: 8'))
    expect(h.handler.reloadPolicy()).toBe(true)
    metrics = await scrape()
    expect(metrics).toMatch(/^countersign_policy_info\{version="8",/m)
    expect(metrics).not.toMatch(/^countersign_policy_info\{version="7",/m)
  })

  it('logs each decision with its kind, USD amount, reason, policy version and pid', () => {
    const held = h.logs.find((line) => line.msg === 'decision' && line.rule === 'one-time-hold')
    expect(held).toMatchObject({
      kind: 'tx_signing',
      action: 'RETRY',
      amountUsd: 7943,
      reason: 'one-time address, held for 2 approvers',
      policyVersion: '7',
      pid: process.pid,
    })
  })

  it('logs the remote address of a refused request', () => {
    const refused = h.logs.find((line) => line.msg === 'callback request refused: authentication failed')
    expect(refused?.remoteAddress).toBe('127.0.0.1')
    expect(refused?.reason).toBe('CS_JWT_MALFORMED')
  })
})
