/**
 * The policy engine wired into the handler and the store: velocity limits under concurrency, and a held
 * request decided by humans between the co-signer's retries, driven by the real simulator.
 */
import { randomUUID } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadTxFixture } from '../../src/testing/index.js'
import { runCli } from '../support/cli.js'
import { checkVote } from '../../src/keys/index.js'
import { verifyCallbackResponse } from '../../src/protocol/index.js'
import { openStore, type AuditEntry } from '../../src/storage/index.js'
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
    // Each approver's own key pair; mallory's key is never registered.
    for (const name of ['alice', 'bob', 'carol', 'mallory'])
      expect((await runCli(['keys', 'generate', '--for', 'approver', '--name', name], h.dir)).code).toBe(0)
    for (const name of ['alice', 'bob', 'carol']) {
      const added = await runCli(
        ['approvers', 'add', name, '--public-key', `${name}.pub`, '--store', store],
        h.dir,
      )
      expect(added.code).toBe(0)
    }
  })
  afterAll(async () => h.close())

  async function auditOf(requestId: string): Promise<AuditEntry[]> {
    const reader = await openStore(store)
    try {
      const entries: AuditEntry[] = []
      for await (const entry of reader.readAudit()) if (entry.requestId === requestId) entries.push(entry)
      return entries
    } finally {
      await reader.close()
    }
  }

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

  it("answers RETRY while signed votes are collected, refuses keys that are not the approver's, then APPROVE", async () => {
    const { requestId, simulation, approvals } = await simulateHeldTransfer()
    expect(await approvals('approve', requestId, '--key', 'mallory.key')).toMatchObject({
      code: 2,
      err: expect.stringMatching(/vote refused: the key mallory\.key .* is not registered to any approver/),
    })
    expect(await approvals('approve', requestId, '--key', 'carol.key', '--as', 'alice')).toMatchObject({
      code: 2,
      err: expect.stringMatching(
        /--as alice does not match the key carol\.key, which is registered to carol/,
      ),
    })
    expect((await approvals('approve', requestId, '--key', 'alice.key')).code).toBe(0)
    expect((await approvals('list')).out).toMatch(/alice:approve.*state: pending/)
    expect((await approvals('approve', requestId, '--key', 'bob.key', '--reason', 'checked')).code).toBe(0)

    const result = await simulation
    expect(result.code).toBe(0)
    expect(result.out).toMatch(/#1 POST .* RETRY/)
    expect(result.out).toMatch(/outcome: APPROVE/)

    // The entry that approved the hold names the approvers and carries signatures that verify with their keys.
    const resolved = (await auditOf(requestId)).find((entry) => entry.event === 'hold-resolved')!
    const votes = resolved.body.votes as {
      approver: string
      vote: 'approve'
      reason: string | null
      signedAt: number
      signature: string
    }[]
    expect(votes.map((vote) => vote.approver)).toEqual(['alice', 'bob'])
    for (const vote of votes) {
      const publicKeyPem = readFileSync(join(h.dir, `${vote.approver}.pub`), 'utf8')
      const facts = {
        route: resolved.body.route as string,
        requestId,
        payloadDigest: resolved.body.payloadDigest as string,
        decision: vote.vote,
        approver: vote.approver,
        reason: vote.reason,
        signedAt: vote.signedAt,
      }
      const expected = { ...facts, publicKeyPem, recordedAt: vote.signedAt }
      expect(checkVote(facts, vote.signature, expected)).toBeNull()
      // The signature is over these facts: any other decision or reason does not verify.
      expect(checkVote({ ...facts, reason: 'other' }, vote.signature, expected)).toMatch(/does not verify/)
    }
  })

  it('rejects a held request on one veto, with the approver reason', async () => {
    const { requestId, simulation, approvals } = await simulateHeldTransfer()
    expect(
      (await approvals('reject', requestId, '--key', 'carol.key', '--reason', 'unknown beneficiary')).code,
    ).toBe(0)
    const result = await simulation
    expect(result.code).toBe(1)
    expect(result.out).toMatch(/outcome: REJECT \(.*unknown beneficiary/)
  })
})
