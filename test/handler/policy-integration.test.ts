/**
 * The policy engine wired into the handler and the store: velocity limits under concurrency, and a held
 * request decided by humans between the co-signer's retries, driven by the real simulator.
 */
import { randomUUID } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadTxFixture } from '../../src/testing/index.js'
import { runCli } from '../support/cli.js'
import { verifyCallbackResponse } from '../../src/protocol/index.js'
import { openStore } from '../../src/storage/index.js'
import { startTestHandler, transferOfUsd, type TestHandler } from './support.js'

describe('velocity limits through the handler', () => {
  let h: TestHandler
  beforeAll(async () => {
    h = await startTestHandler()
  })
  afterAll(async () => h.close())

  const actionOf = async (payload: Record<string, unknown>) =>
    (await verifyCallbackResponse((await h.send('tx', payload)).body, h.handlerKeys.publicKey)).action

  it('approves exactly 50 of 200 concurrent 1,000 USD requests against a 50,000 USD window, none twice', async () => {
    const requests = Array.from({ length: 200 }, () => transferOfUsd(1_000))
    const actions = await Promise.all(requests.map(actionOf))
    expect(actions.filter((action) => action === 'APPROVE')).toHaveLength(50)
    expect(actions.filter((action) => action === 'REJECT')).toHaveLength(150)

    const approved = requests.filter((_, index) => actions[index] === 'APPROVE')
    const retried = await Promise.all(approved.map(actionOf))
    expect(retried.every((action) => action === 'APPROVE')).toBe(true)
    expect(await actionOf(transferOfUsd(1_000))).toBe('REJECT')
    // Another vault has its own window.
    expect(await actionOf(transferOfUsd(1_000, { sourceId: '7' }))).toBe('APPROVE')

    const store = `sqlite:${join(h.dir, 'store.db')}`
    const release = await runCli(
      ['velocity', 'release', '--store', store, '--request-id', String(approved[0]!.requestId)],
      h.dir,
    )
    expect(release).toMatchObject({
      code: 0,
      out: expect.stringMatching(/released 1000\.00 USD from vault_24h/),
    })
    expect(await actionOf(transferOfUsd(1_000))).toBe('APPROVE')
  })
})

describe('human quorum between retries', () => {
  let h: TestHandler
  let store: string
  beforeAll(async () => {
    h = await startTestHandler()
    store = `sqlite:${join(h.dir, 'store.db')}`
    writeFileSync(join(h.dir, 'cosigner.key'), h.cosigner.privatePem, { mode: 0o600 })
    writeFileSync(join(h.dir, 'handler.pub'), h.handlerKeys.publicPem)
  })
  afterAll(async () => h.close())

  /** Starts the simulator on a one-time-address transfer and resolves once the handler holds it. */
  async function simulateHeldTransfer() {
    const requestId = randomUUID()
    writeFileSync(join(h.dir, `${requestId}.json`), JSON.stringify(loadTxFixture('btc-one-time-address')))
    const simulation = runCli(
      [
        'simulate',
        '--url',
        `${h.url}/fireblocks/callback`,
        '--cosigner-key',
        'cosigner.key',
        '--handler-pubkey',
        'handler.pub',
        '--payload',
        `${requestId}.json`,
        '--request-id',
        requestId,
        '--retry-interval',
        '1s',
        '--max-retries',
        '20',
      ],
      h.dir,
    )
    const reader = await openStore(store)
    try {
      await expect
        .poll(async () => (await reader.listHeld()).some((held) => held.requestId === requestId), {
          timeout: 10_000,
        })
        .toBe(true)
    } finally {
      await reader.close()
    }
    const approvals = (...args: string[]) => runCli(['approvals', ...args, '--store', store], h.dir)
    return { requestId, simulation, approvals }
  }

  it('answers RETRY while votes are collected, refuses non-approvers, then APPROVE once two agreed', async () => {
    const { requestId, simulation, approvals } = await simulateHeldTransfer()
    expect(await approvals('approve', requestId, '--as', 'mallory')).toMatchObject({
      code: 2,
      err: expect.stringMatching(/not an approver/),
    })
    expect((await approvals('approve', requestId, '--as', 'alice')).code).toBe(0)
    expect((await approvals('list')).out).toMatch(/alice:approve.*state: pending/)
    expect((await approvals('approve', requestId, '--as', 'bob')).code).toBe(0)

    const result = await simulation
    expect(result.code).toBe(0)
    expect(result.out).toMatch(/#1 POST .* RETRY/)
    expect(result.out).toMatch(/outcome: APPROVE/)
  })

  it('rejects a held request on one veto, with the approver reason', async () => {
    const { requestId, simulation, approvals } = await simulateHeldTransfer()
    expect(
      (await approvals('reject', requestId, '--as', 'carol', '--reason', 'unknown beneficiary')).code,
    ).toBe(0)
    const result = await simulation
    expect(result.code).toBe(1)
    expect(result.out).toMatch(/outcome: REJECT \(.*unknown beneficiary/)
  })
})
