/**
 * `approve` jobs on the party runner: the approver decides, its answer is posted once, a cancel by the hub
 * aborts it (and is posted as failed by nobody: the hub already closed the job), a stopping runner posts
 * nothing (the approver resumes after a restart), a party without an approver fails every approval.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { JobCancelled, type Approver } from '../../src/link/index.js'
import type { ApproveBody } from '../../src/protocol/index.js'
import { FakeHub } from './fake-hub.js'
import { startParty, stopParties, type TestParty } from './parties.js'

const body = (): ApproveBody => ({
  job: randomUUID(),
  txId: randomUUID(),
  attempt: 1,
  requestId: randomUUID(),
  algorithm: 'MPC_ECDSA_SECP256K1',
  messages: [{ content: 'ab'.repeat(32), path: [44, 1, 0, 0, 0] }],
  payload: { note: 'a signing request' },
})

describe('approve jobs on the party runner', () => {
  const hub = new FakeHub()
  const dir = mkdtempSync(join(tmpdir(), 'countersign-approve-'))
  let parties: TestParty[] = []
  afterEach(() => stopParties(parties))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('posts the approver’s answer once, even when the hub delivers the job twice', async () => {
    let calls = 0
    const approver: Approver = () => {
      calls += 1
      return Promise.resolve({ outcome: 'declined', reason: 'over the daily limit' })
    }
    parties = [startParty(hub, 'alice', dir, { approver })]
    const job = body()
    const message = hub.message('alice', 'approve', job)
    await hub.post(message)
    await hub.post({ ...message, id: randomUUID() }) // redelivered under another message id
    const results = await hub.resultsOf(job.job, 1)
    expect(results.get('alice')).toEqual({
      job: job.job,
      outcome: 'declined',
      reason: 'over the daily limit',
    })
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(calls).toBe(1)
    expect(hub.results.get(job.job)).toHaveLength(1)
  })

  it('aborts an approval the hub cancels, with JobCancelled as the reason', async () => {
    let reason: unknown
    const approver: Approver = (_job, signal) =>
      new Promise((_resolve, reject) =>
        signal.addEventListener('abort', () => {
          reason = signal.reason
          reject(signal.reason as Error)
        }),
      )
    parties = [startParty(hub, 'bob', dir, { approver })]
    const job = body()
    await hub.post(hub.message('bob', 'approve', job))
    await new Promise((resolve) => setTimeout(resolve, 200))
    await hub.post(hub.message('bob', 'cancel', { job: job.job, reason: 'the attempt ran out of time' }))
    await expect.poll(() => reason).toBeInstanceOf(JobCancelled)
    expect((reason as Error).message).toContain('the attempt ran out of time')
  })

  it('posts nothing for an approval cut short by a stop (the approver resumes it later)', async () => {
    let started = false
    const approver: Approver = (_job, signal) =>
      new Promise((_resolve, reject) => {
        started = true
        signal.addEventListener('abort', () => reject(signal.reason as Error))
      })
    const carol = startParty(hub, 'carol', dir, { approver })
    const job = body()
    await hub.post(hub.message('carol', 'approve', job))
    await expect.poll(() => started).toBe(true)
    await carol.runner.stop()
    expect(hub.results.get(job.job)).toBeUndefined()
  })

  it('fails every approval of a party that has no approver (a cloud co-signer)', async () => {
    parties = [startParty(hub, 'cloud1', dir)]
    const job = body()
    await hub.post(hub.message('cloud1', 'approve', job))
    const results = await hub.resultsOf(job.job, 1)
    expect(results.get('cloud1')).toMatchObject({ outcome: 'failed', reason: 'cloud1 approves no request' })
  })
})
