import pino from 'pino'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { testDatabases } from '../../../test/support/databases.js'
import { ManualClock } from '../../core/index.js'
import { compileTransactionPolicy } from '../../policy/index.js'
import type { SigningAlgorithm } from '../../protocol/index.js'
import {
  HUB_TRANSACTION_MIGRATIONS,
  VELOCITY_MIGRATIONS,
  migrate,
  openDatabase,
  readTransaction,
  readTransactionHistory,
  type StorageDatabase,
} from '../../storage/index.js'
import type { SignJobRequest, SignOutcome, TransactionChain } from './ports.js'
import { TransactionPipeline } from './transaction-pipeline.js'

const POLICY = `version: 1
rules:
  - id: blocked-asset
    match: { asset: [BAD_ASSET] }
    action: BLOCK
    reason: this asset is blocked
  - id: big
    when: amount > decimal('10')
    action: REQUIRE_APPROVAL
    approvers: { quorum: 2, of: [ann, ben, cat] }
  - id: bob-only
    when: note == 'bob'
    action: ALLOW
    signers: [bob]
  - id: others
    match: { asset: [ETH_TEST6] }
    action: ALLOW
`

const chain: TransactionChain = {
  algorithm: (): SigningAlgorithm => 'MPC_ECDSA_SECP256K1',
  path: (_asset, vault, change, index) => [44, 1, Number(vault), change, index],
  sourceAddress: async (_asset, vault) => `0xsource${vault}`,
  prepareTransfer: async (input) => ({
    message: { content: 'ab'.repeat(32), path: [44, 1, Number(input.vaultId), 0, 0] },
    detail: {
      amountInfo: {
        amount: input.amount,
        requestedAmount: input.amount,
        netAmount: input.amount,
        amountUSD: '0',
      },
    },
    fixed: { nonce: 0 },
    maxCost: 0n,
    finish: () => ({ signedTransaction: '0x02f8', txHash: '0xhash' }),
  }),
  verify: async () => true,
  signedMessage: async (_algorithm, message, signature) => ({ content: message.content, signature }),
}

class FakeSigning {
  readonly calls: SignJobRequest[] = []
  readonly abandoned: string[] = []
  outcome: SignOutcome = { outcome: 'signed', signatures: [{ r: '01', s: '02', v: 0 }] }
  /** Attempts of these signers wait, as the real service does, until aborted or `finishWaiting`. */
  readonly hangFor = new Set<string>()
  private readonly waiting = new Set<(outcome: SignOutcome) => void>()

  /** Whether the approval is given at once (the MPC sessions start); false: the co-signer is still asking. */
  approved = true

  async sign(request: SignJobRequest, signal: AbortSignal, onSigning?: () => void): Promise<SignOutcome> {
    this.calls.push(request)
    if (this.approved) onSigning?.()
    if (!this.hangFor.has(request.signer)) return this.outcome
    return new Promise((resolve) => {
      this.waiting.add(resolve)
      signal.addEventListener('abort', () =>
        resolve({ outcome: 'failed', reason: (signal.reason as Error).message }),
      )
    })
  }

  /** Ends every waiting attempt with `outcome`, as if its parties finished late. */
  finishWaiting(outcome: SignOutcome): void {
    for (const resolve of this.waiting) resolve(outcome)
    this.waiting.clear()
  }

  async abandon(txId: string, attempt: number): Promise<void> {
    this.abandoned.push(`${txId}:${attempt}`)
  }
}

const LEASE_MS = 30_000
/** The process each signer's co-signer runs as (a restart changes it); 'first' when not set. */
const instances = new Map<string, string>()
const until = async (condition: () => boolean) => {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5))
}

function transfer(amount: string, note = '', assetId = 'ETH_TEST6') {
  return {
    createdBy: 'initiator',
    externalTxId: null,
    sourceId: '0',
    request: {
      operation: 'TRANSFER',
      assetId,
      source: { type: 'VAULT_ACCOUNT', id: '0' },
      destination: { type: 'ONE_TIME_ADDRESS', oneTimeAddress: { address: '0xdead' } },
      amount,
      note,
    },
  }
}

describe.each(testDatabases)('the transaction pipeline on $name', (database) => {
  const opened: StorageDatabase[] = []
  const pipelines: TransactionPipeline[] = []
  const events: string[] = []
  let clock: ManualClock
  let signing: FakeSigning

  async function pipeline(
    url?: string,
    available: readonly string[] | Set<string> = ['alice', 'bob'],
    text = POLICY,
    own: { clock?: ManualClock; signing?: FakeSigning } = {},
  ) {
    const target = url ?? (await database.freshUrl())
    // A set given is the test's to change: signers falling silent and coming back.
    const reachable = available instanceof Set ? available : new Set(available)
    const db = openDatabase(target)
    opened.push(db)
    await migrate(db, [...VELOCITY_MIGRATIONS, ...HUB_TRANSACTION_MIGRATIONS], 0)
    const { policy } = compileTransactionPolicy(text, { readListFile: () => ({ text: '', mtimeMs: 0 }) })
    if (policy === undefined) throw new Error('test policy does not compile')
    const created = new TransactionPipeline({
      db,
      clock: own.clock ?? clock,
      log: pino({ level: 'silent' }),
      chain,
      policy: { prepare: async (request, now) => policy.prepare(request, now) },
      signers: {
        availableSigners: async () => [...reachable],
        reachable: async (signer: string) =>
          reachable.has(signer) ? { instance: instances.get(signer) ?? 'first' } : undefined,
      },
      signing: own.signing ?? signing,
      effects: {
        notify: async (_session, event, tx) => void events.push(`${event}:${String(tx.status)}`),
        audit: async () => undefined,
      },
      signingBudgetMs: 60_000,
      approvalBudgetMs: 60_000,
      leaseMs: LEASE_MS,
      usdPrice: () => 2_000,
    })
    pipelines.push(created)
    return { pipeline: created, db, url: target }
  }

  const status = async (db: StorageDatabase, id: string) => (await db.read((r) => readTransaction(r, id)))!

  afterEach(async () => {
    for (const p of pipelines.splice(0)) await p.close()
    for (const db of opened.splice(0)) await db.close()
    events.length = 0
    instances.clear()
  })
  afterAll(() => database.dropAll())

  it('completes an allowed transfer with the first available signer, with its webhooks in order', async () => {
    clock = new ManualClock(1_767_225_600_000)
    signing = new FakeSigning()
    const { pipeline: p, db } = await pipeline()
    const tx = await p.create(transfer('1'))
    await p.idle()
    const done = await status(db, tx.id)
    expect(done).toMatchObject({ status: 'COMPLETED', subStatus: 'CONFIRMED', signer: 'alice', attempt: 1 })
    expect(done.detail).toMatchObject({ txHash: '0xhash', signedTransaction: '0x02f8', signedBy: ['alice'] })
    expect(events).toEqual([
      'TRANSACTION_CREATED:SUBMITTED',
      'TRANSACTION_STATUS_UPDATED:QUEUED',
      'TRANSACTION_STATUS_UPDATED:PENDING_SIGNATURE',
      'TRANSACTION_STATUS_UPDATED:COMPLETED',
    ])
  })

  it('blocks by policy, and blocks when no rule matches', async () => {
    clock = new ManualClock(1_767_225_600_000)
    signing = new FakeSigning()
    const { pipeline: p, db } = await pipeline()
    const blocked = await p.create(transfer('1', '', 'BAD_ASSET'))
    const unmatched = await p.create(transfer('1', '', 'BTC_TEST'))
    await p.idle()
    expect(await status(db, blocked.id)).toMatchObject({
      status: 'BLOCKED',
      subStatus: 'BLOCKED_BY_POLICY',
      ruleId: 'blocked-asset',
    })
    expect(await status(db, unmatched.id)).toMatchObject({
      status: 'BLOCKED',
      subStatus: 'BLOCKED_BY_POLICY',
      ruleId: null,
    })
    expect(signing.calls).toHaveLength(0)
  })

  it('waits for a quorum of two approvals, and one rejection denies after an approval', async () => {
    clock = new ManualClock(1_767_225_600_000)
    signing = new FakeSigning()
    const { pipeline: p, db } = await pipeline()
    const approved = await p.create(transfer('11'))
    const rejected = await p.create(transfer('12'))
    await p.idle()
    expect((await status(db, approved.id)).status).toBe('PENDING_AUTHORIZATION')
    await p.vote(approved.id, 'ann', 'APPROVED')
    expect((await status(db, approved.id)).status).toBe('PENDING_AUTHORIZATION')
    await expect(p.vote(approved.id, 'ann', 'APPROVED')).rejects.toThrow(/already voted/)
    await expect(p.vote(approved.id, 'mallory', 'APPROVED')).rejects.toMatchObject({
      code: 'CS_HUB_VOTE_REFUSED',
    })
    await p.vote(approved.id, 'ben', 'APPROVED')
    await p.idle()
    expect((await status(db, approved.id)).status).toBe('COMPLETED')
    await p.vote(rejected.id, 'ann', 'APPROVED')
    await p.vote(rejected.id, 'cat', 'REJECTED')
    await p.idle()
    expect(await status(db, rejected.id)).toMatchObject({ status: 'REJECTED', subStatus: 'REJECTED_BY_USER' })
    expect(signing.calls.map((c) => c.txId)).toEqual([approved.id])
  })

  it('signs only with a designated signer, and keeps the transaction queued while none is available', async () => {
    clock = new ManualClock(1_767_225_600_000)
    signing = new FakeSigning()
    const { pipeline: p, db } = await pipeline(undefined, ['alice', 'bob'])
    const tx = await p.create(transfer('1', 'bob'))
    await p.idle()
    expect(await status(db, tx.id)).toMatchObject({ status: 'COMPLETED', signer: 'bob' })
    const { pipeline: lonely, db: db2 } = await pipeline(undefined, ['alice'])
    const queued = await lonely.create(transfer('1', 'bob'))
    await lonely.idle()
    expect((await status(db2, queued.id)).status).toBe('QUEUED')
  })

  it('ends REJECTED with the reason when the co-signer declines, and FAILED when signing fails', async () => {
    clock = new ManualClock(1_767_225_600_000)
    signing = new FakeSigning()
    signing.outcome = { outcome: 'declined', reason: 'amount above the limit' }
    const { pipeline: p, db } = await pipeline()
    const declined = await p.create(transfer('1'))
    await p.idle()
    const row = await status(db, declined.id)
    expect(row).toMatchObject({ status: 'REJECTED', subStatus: 'REJECTED_BY_USER' })
    expect(String(row.detail.errorDescription)).toContain('amount above the limit')
    signing.outcome = { outcome: 'failed', reason: 'cloud2 did not answer' }
    const failed = await p.create(transfer('1'))
    await p.idle()
    expect(await status(db, failed.id)).toMatchObject({ status: 'FAILED', subStatus: 'SIGNING_ERROR' })
  })

  it('cancels a transaction being signed', async () => {
    clock = new ManualClock(1_767_225_600_000)
    signing = new FakeSigning()
    signing.hangFor.add('alice')
    const { pipeline: p, db } = await pipeline()
    const tx = await p.create(transfer('1'))
    await until(() => signing.calls.length === 1)
    expect(await p.cancel(tx.id)).toBe(true)
    await p.idle()
    expect(await status(db, tx.id)).toMatchObject({ status: 'CANCELLED', subStatus: 'CANCELLED_BY_USER' })
    expect(await p.cancel(tx.id)).toBe(false)
  })

  it('hands the attempt of a signer that falls silent to the next one, after abandoning it', async () => {
    clock = new ManualClock(1_767_225_600_000)
    signing = new FakeSigning()
    signing.hangFor.add('alice')
    const reachable = new Set(['alice', 'bob'])
    const { pipeline: p, db } = await pipeline(undefined, reachable)
    const tx = await p.create(transfer('1'))
    await until(() => signing.calls.length === 1)
    // Heard from: the lease is renewed, however long the attempt takes.
    for (let i = 0; i < 6; i++) {
      clock.advance(LEASE_MS / 3)
      await until(() => clock.pending > 1)
    }
    expect(await status(db, tx.id)).toMatchObject({
      status: 'PENDING_SIGNATURE',
      signer: 'alice',
      attempt: 1,
    })
    reachable.delete('alice')
    clock.advance(LEASE_MS / 3)
    await until(() => signing.calls.length === 2)
    await p.idle()
    expect(signing.abandoned).toEqual([`${tx.id}:1`])
    expect(signing.calls.map((call) => [call.signer, call.attempt, call.callback.signerId])).toEqual([
      ['alice', 1, 'alice'],
      ['bob', 2, 'bob'],
    ])
    expect(await status(db, tx.id)).toMatchObject({ status: 'COMPLETED', signer: 'bob', attempt: 2 })
    const history = await db.read((r) => readTransactionHistory(r, tx.id))
    expect(history.map((h) => h.status)).toEqual([
      'SUBMITTED',
      'QUEUED',
      'PENDING_SIGNATURE',
      'QUEUED',
      'PENDING_SIGNATURE',
      'COMPLETED',
    ])
  })

  it('keeps the lease of a co-signer that restarts while it approves: it resumes its approval', async () => {
    clock = new ManualClock(1_767_225_600_000)
    signing = new FakeSigning()
    signing.hangFor.add('alice')
    signing.approved = false
    const { pipeline: p, db } = await pipeline(undefined, ['alice'])
    const tx = await p.create(transfer('1'))
    await until(() => signing.calls.length === 1)
    await until(() => clock.pending > 1)
    instances.set('alice', 'second')
    for (let i = 0; i < 3; i++) {
      clock.advance(LEASE_MS / 3)
      await until(() => clock.pending > 1)
    }
    expect(signing.abandoned).toEqual([])
    expect(await status(db, tx.id)).toMatchObject({ status: 'PENDING_SIGNATURE', attempt: 1 })
    signing.finishWaiting(signing.outcome)
    await p.idle()
    expect(await status(db, tx.id)).toMatchObject({ status: 'COMPLETED', attempt: 1 })
  })

  it('hands the attempt of a co-signer that restarted during the signature (its sessions are gone) on', async () => {
    clock = new ManualClock(1_767_225_600_000)
    signing = new FakeSigning()
    signing.hangFor.add('alice')
    const { pipeline: p, db } = await pipeline(undefined, ['alice'])
    const tx = await p.create(transfer('1'))
    await until(() => signing.calls.length === 1)
    instances.set('alice', 'second')
    signing.hangFor.delete('alice')
    clock.advance(LEASE_MS / 3)
    await until(() => signing.calls.length === 2)
    await p.idle()
    expect(signing.abandoned).toEqual([`${tx.id}:1`])
    expect(await status(db, tx.id)).toMatchObject({ status: 'COMPLETED', signer: 'alice', attempt: 2 })
  })

  it('takes over the attempt of a hub that stopped renewing, and its late signature changes nothing', async () => {
    clock = new ManualClock(1_767_225_600_000)
    signing = new FakeSigning()
    const frozen = { clock: new ManualClock(1_767_225_600_000), signing: new FakeSigning() }
    frozen.signing.hangFor.add('alice')
    const stopped = await pipeline(undefined, ['alice'], POLICY, frozen)
    const tx = await stopped.pipeline.create(transfer('1'))
    await until(() => frozen.signing.calls.length === 1)
    const survivor = await pipeline(stopped.url, ['alice'])
    clock.advance(LEASE_MS - 1)
    await survivor.pipeline.sweep()
    expect(await status(stopped.db, tx.id)).toMatchObject({ status: 'PENDING_SIGNATURE', attempt: 1 })
    clock.advance(2)
    await survivor.pipeline.sweep()
    await survivor.pipeline.idle()
    expect(signing.abandoned).toEqual([`${tx.id}:1`])
    expect(await status(stopped.db, tx.id)).toMatchObject({ status: 'COMPLETED', attempt: 2 })
    // The stopped hub wakes with a signature of attempt 1: fenced out, the transaction keeps attempt 2's.
    frozen.signing.finishWaiting({ outcome: 'signed', signatures: [{ r: 'ff', s: 'ff', v: 1 }] })
    await stopped.pipeline.idle()
    const done = await status(stopped.db, tx.id)
    expect(done).toMatchObject({ status: 'COMPLETED', attempt: 2 })
    expect(done.detail.signedTransaction).toBe('0x02f8')
    const history = await stopped.db.read((r) => readTransactionHistory(r, tx.id))
    expect(history.filter((h) => h.status === 'COMPLETED')).toHaveLength(1)
  })

  it('leaves the attempts of a hub that stops to another replica, rather than failing them', async () => {
    clock = new ManualClock(1_767_225_600_000)
    signing = new FakeSigning()
    signing.hangFor.add('alice')
    const stopping = await pipeline(undefined, ['alice'])
    const tx = await stopping.pipeline.create(transfer('1'))
    await until(() => signing.calls.length === 1)
    await stopping.pipeline.close()
    expect(await status(stopping.db, tx.id)).toMatchObject({ status: 'PENDING_SIGNATURE', attempt: 1 })
    signing.hangFor.clear()
    const next = await pipeline(stopping.url, ['alice'])
    clock.advance(LEASE_MS + 1)
    await next.pipeline.sweep()
    await next.pipeline.idle()
    expect(await status(stopping.db, tx.id)).toMatchObject({ status: 'COMPLETED', attempt: 2 })
  })

  it('spreads concurrent transactions over the designated signers by their load', async () => {
    clock = new ManualClock(1_767_225_600_000)
    signing = new FakeSigning()
    signing.hangFor.add('alice').add('bob')
    const { pipeline: p } = await pipeline()
    await Promise.all(Array.from({ length: 6 }, () => p.create(transfer('1'))))
    await until(() => signing.calls.length === 6)
    const bySigner = signing.calls.map((call) => call.signer).sort()
    expect(bySigner).toEqual(['alice', 'alice', 'alice', 'bob', 'bob', 'bob'])
    signing.finishWaiting(signing.outcome)
  })

  it('lets two replicas sign a queued transaction once', async () => {
    clock = new ManualClock(1_767_225_600_000)
    signing = new FakeSigning()
    const first = await pipeline()
    const second = await pipeline(first.url)
    const tx = await first.pipeline.create(transfer('1'))
    await Promise.all([second.pipeline.sweep(), first.pipeline.sweep()])
    await Promise.all([first.pipeline.idle(), second.pipeline.idle()])
    expect((await status(first.db, tx.id)).status).toBe('COMPLETED')
    expect(signing.calls).toHaveLength(1)
  })

  it('reserves velocity with each decision, so a window blocks the transfer that would exceed it', async () => {
    clock = new ManualClock(1_767_225_600_000)
    signing = new FakeSigning()
    const daily = `version: 2
velocity:
  - { id: vault_24h, window: 24h, group_by: [source.id], metrics: [sum_usd] }
rules:
  - id: daily-limit
    when: velocity.vault_24h.sum_usd + amount_usd > 5000.0
    action: BLOCK
    reason: over the vault's daily 5,000 USD
  - id: within
    match: { source.type: [VAULT_ACCOUNT] }
    action: ALLOW
`
    const { pipeline: p, db } = await pipeline(undefined, ['alice'], daily)
    const outcomes: string[] = []
    for (let i = 0; i < 3; i++) {
      const tx = await p.create(transfer('1'))
      await p.idle()
      outcomes.push((await status(db, tx.id)).status)
    }
    // 2,000 USD each: 0 + 2,000 and 2,000 + 2,000 pass; 4,000 + 2,000 is over the window.
    expect(outcomes).toEqual(['COMPLETED', 'COMPLETED', 'BLOCKED'])
    clock.advance(25 * 3_600_000)
    const nextDay = await p.create(transfer('1'))
    await p.idle()
    expect((await status(db, nextDay.id)).status).toBe('COMPLETED')
  })
})
