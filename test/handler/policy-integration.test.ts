/**
 * The policy engine wired into the handler and the store: velocity limits under concurrency, and a held
 * request approved by humans between the co-signer's retries, driven by the real simulator.
 */
import { randomUUID } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadTxFixture } from '../fixtures/index.js'
import { main } from '../../src/cli/main.js'
import { verifyCallbackResponse } from '../../src/protocol/index.js'
import { openStore } from '../../src/store/index.js'
import { startTestHandler, type TestHandler } from './support.js'

function transferOf(usd: number, sourceId = '0'): Record<string, unknown> {
  const requestId = randomUUID()
  const fixture = loadTxFixture('eth-transfer-signing')
  const [destination] = fixture.destinations as Record<string, unknown>[]
  return {
    ...fixture,
    requestId,
    txId: requestId,
    sourceId,
    destinations: [{ ...destination, amountUSD: usd }],
  }
}

function capture(cwd: string) {
  const lines: string[] = []
  return {
    lines,
    io: {
      out: (text: string) => void lines.push(text),
      err: (text: string) => void lines.push(text),
      cwd,
      env: {},
    },
  }
}

describe('velocity limits through the handler', () => {
  let h: TestHandler
  beforeAll(async () => {
    h = await startTestHandler()
  })
  afterAll(async () => h.close())

  const actionOf = async (payload: Record<string, unknown>) =>
    (await verifyCallbackResponse((await h.send('tx', payload)).body, h.handlerKeys.publicKey)).action

  it('approves exactly 50 of 200 concurrent 1,000 USD requests against a 50,000 USD window, none twice', async () => {
    const requests = Array.from({ length: 200 }, () => transferOf(1_000))
    const actions = await Promise.all(requests.map(actionOf))
    expect(actions.filter((action) => action === 'APPROVE')).toHaveLength(50)
    expect(actions.filter((action) => action === 'REJECT')).toHaveLength(150)

    const approved = requests.filter((_, index) => actions[index] === 'APPROVE')
    const retried = await Promise.all(approved.map(actionOf))
    expect(retried.every((action) => action === 'APPROVE')).toBe(true)
    expect(await actionOf(transferOf(1_000))).toBe('REJECT')
    // Another vault has its own window.
    expect(await actionOf(transferOf(1_000, '7'))).toBe('APPROVE')

    const io = capture(h.dir)
    const store = `sqlite:${join(h.dir, 'store.db')}`
    expect(
      await main(
        [
          'node',
          'countersign',
          'velocity',
          'release',
          '--store',
          store,
          '--request-id',
          String(approved[0]!.requestId),
        ],
        io.io,
      ),
    ).toBe(0)
    expect(io.lines.join()).toMatch(/released 1000\.00 USD from vault_24h/)
    expect(await actionOf(transferOf(1_000))).toBe('APPROVE')
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

  async function heldOnce(requestId: string): Promise<void> {
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
  }

  function simulate(payloadFile: string) {
    const io = capture(h.dir)
    const args = [
      'simulate',
      '--url',
      `${h.url}/fireblocks/callback`,
      '--cosigner-key',
      'cosigner.key',
      '--handler-pubkey',
      'handler.pub',
      '--payload',
      payloadFile,
      '--retry-interval',
      '1s',
      '--max-retries',
      '20',
    ]
    return { io, run: main(['node', 'countersign', ...args], io.io) }
  }

  it('answers RETRY while votes are collected, then APPROVE once two approvers agreed (simulator end to end)', async () => {
    const payload = { ...loadTxFixture('btc-one-time-address'), requestId: randomUUID() }
    writeFileSync(join(h.dir, 'held.json'), JSON.stringify(payload))
    const sim = simulate('held.json')
    await heldOnce(String(payload.requestId))

    const vote = capture(h.dir)
    expect(
      await main(
        [
          'node',
          'countersign',
          'approvals',
          'approve',
          String(payload.requestId),
          '--as',
          'mallory',
          '--store',
          store,
        ],
        vote.io,
      ),
    ).toBe(2)
    expect(vote.lines.join()).toMatch(/not an approver/)
    expect(
      await main(
        [
          'node',
          'countersign',
          'approvals',
          'approve',
          String(payload.requestId),
          '--as',
          'alice',
          '--store',
          store,
        ],
        vote.io,
      ),
    ).toBe(0)
    const list = capture(h.dir)
    expect(await main(['node', 'countersign', 'approvals', 'list', '--store', store], list.io)).toBe(0)
    expect(list.lines.join()).toMatch(/alice:approve.*state: pending/)
    expect(
      await main(
        [
          'node',
          'countersign',
          'approvals',
          'approve',
          String(payload.requestId),
          '--as',
          'bob',
          '--store',
          store,
        ],
        vote.io,
      ),
    ).toBe(0)

    expect(await sim.run).toBe(0)
    const transcript = sim.io.lines.join('\n')
    expect(transcript).toMatch(/#1 POST .* RETRY/)
    expect(transcript).toMatch(/outcome: APPROVE/)
  })

  it('rejects a held request on one veto, with the approver reason', async () => {
    const payload = { ...loadTxFixture('btc-one-time-address'), requestId: randomUUID() }
    writeFileSync(join(h.dir, 'vetoed.json'), JSON.stringify(payload))
    const sim = simulate('vetoed.json')
    await heldOnce(String(payload.requestId))
    const vote = capture(h.dir)
    expect(
      await main(
        [
          'node',
          'countersign',
          'approvals',
          'reject',
          String(payload.requestId),
          '--as',
          'carol',
          '--reason',
          'unknown beneficiary',
          '--store',
          store,
        ],
        vote.io,
      ),
    ).toBe(0)
    expect(await sim.run).toBe(1)
    expect(sim.io.lines.join('\n')).toMatch(/outcome: REJECT \(.*unknown beneficiary/)
  })
})
