import pino from 'pino'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { FakeEvmNode, hashOf } from '../../../test/support/fake-evm-node.js'
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
import { assetRegistry } from '../chains/index.js'
import { connectEvmNodes } from '../workspace/evm-node.js'
import type { SignJobRequest, SignOutcome, TransactionChain } from './ports.js'
import { TransactionPipeline } from './transaction-pipeline.js'

const POLICY = `version: 1
rules:
  - id: all
    match: { asset: [ETH_TEST6] }
    action: ALLOW
`
/** Stands for the signed transaction: the node hashes whatever bytes it is sent. */
const SIGNED = '0x02f86c83088bb0018405f5e100'
const MAX_COST = 10n ** 15n

const chain: TransactionChain = {
  algorithm: (): SigningAlgorithm => 'MPC_ECDSA_SECP256K1',
  path: (_asset, vault, change, index) => [44, 1, Number(vault), change, index],
  sourceAddress: async (_asset, vault) => `0xsource${vault}`,
  prepareTransfer: async (input) => ({
    message: { content: 'ab'.repeat(32), path: [44, 1, Number(input.vaultId), 0, 0] },
    detail: {},
    fixed: { nonce: '0' },
    maxCost: MAX_COST,
    finish: () => ({ signedTransaction: SIGNED, txHash: hashOf(SIGNED) }),
  }),
  verify: async () => true,
  signedMessage: async (_algorithm, message, signature) => ({ content: message.content, signature }),
}

class FakeSigning {
  readonly calls: SignJobRequest[] = []
  async sign(request: SignJobRequest): Promise<SignOutcome> {
    this.calls.push(request)
    return { outcome: 'signed', signatures: [{ r: '01', s: '02', v: 0 }] }
  }
  async abandon(): Promise<void> {
    throw new Error('no attempt of these tests loses its lease')
  }
}

const transfer = {
  createdBy: 'initiator',
  externalTxId: null,
  sourceId: '0',
  request: {
    operation: 'TRANSFER',
    assetId: 'ETH_TEST6',
    source: { type: 'VAULT_ACCOUNT', id: '0' },
    destination: { type: 'ONE_TIME_ADDRESS', oneTimeAddress: { address: '0xdead' } },
    amount: '0.001',
  },
}

describe.each(testDatabases)('broadcasting transfers on $name', (database) => {
  const opened: StorageDatabase[] = []
  const pipelines: TransactionPipeline[] = []
  const nodes: FakeEvmNode[] = []
  /** status:subStatus:numOfConfirmations of every webhook. */
  const events: string[] = []
  const clock = new ManualClock(1_767_225_600_000)
  let signing: FakeSigning

  async function fakeNode(options: ConstructorParameters<typeof FakeEvmNode>[0] = {}) {
    const node = await new FakeEvmNode(options).start()
    nodes.push(node)
    return node
  }

  async function pipeline(node: FakeEvmNode, confirmations: number, url?: string) {
    const target = url ?? (await database.freshUrl())
    const db = openDatabase(target)
    opened.push(db)
    await migrate(db, [...VELOCITY_MIGRATIONS, ...HUB_TRANSACTION_MIGRATIONS], 0)
    const { policy } = compileTransactionPolicy(POLICY, { readListFile: () => ({ text: '', mtimeMs: 0 }) })
    if (policy === undefined) throw new Error('test policy does not compile')
    const connected = await connectEvmNodes(assetRegistry(), {
      ETH_TEST6: { rpcUrl: node.url, confirmations },
    })
    const created = new TransactionPipeline({
      db,
      clock,
      log: pino({ level: 'silent' }),
      chain,
      policy: { prepare: async (request, now) => policy.prepare(request, now) },
      signers: { availableSigners: async () => ['alice'], reachable: async () => ({ instance: null }) },
      signing,
      effects: {
        notify: async (_session, _event, tx) =>
          void events.push(`${String(tx.status)}:${String(tx.subStatus)}:${String(tx.numOfConfirmations)}`),
        audit: async () => undefined,
      },
      network: { node: (assetId) => connected.get(assetId) },
      signingBudgetMs: 60_000,
      approvalBudgetMs: 60_000,
      leaseMs: 30_000,
      usdPrice: () => 2_000,
    })
    pipelines.push(created)
    return { pipeline: created, db, url: target }
  }

  const row = async (db: StorageDatabase, id: string) => (await db.read((r) => readTransaction(r, id)))!

  afterEach(async () => {
    for (const p of pipelines.splice(0)) await p.close()
    for (const db of opened.splice(0)) await db.close()
    for (const node of nodes.splice(0)) await node.stop()
    events.length = 0
  })
  afterAll(() => database.dropAll())

  it('broadcasts once signed, then counts confirmations until COMPLETED with the block', async () => {
    signing = new FakeSigning()
    const node = await fakeNode({ mineAfterPolls: 2 })
    const { pipeline: p, db } = await pipeline(node, 2)
    const tx = await p.create(transfer)
    await p.idle()
    expect(node.sent).toEqual([SIGNED])
    expect(await row(db, tx.id)).toMatchObject({
      status: 'CONFIRMING',
      subStatus: 'PENDING_BLOCKCHAIN_CONFIRMATIONS',
    })
    await p.sweep() // not mined yet: nothing moves
    await p.sweep() // mined: one confirmation
    expect((await row(db, tx.id)).detail.numOfConfirmations).toBe(1)
    await p.sweep() // two: final
    const done = await row(db, tx.id)
    expect(done).toMatchObject({ status: 'COMPLETED', subStatus: 'CONFIRMED' })
    expect(done.detail).toMatchObject({
      txHash: hashOf(SIGNED),
      signedTransaction: SIGNED,
      numOfConfirmations: 2,
      blockInfo: { blockHeight: '102', blockHash: `0x${'66'.padStart(64, 'b')}` },
    })
    expect(events).toEqual([
      'SUBMITTED::0',
      'QUEUED::0',
      'PENDING_SIGNATURE::0',
      'BROADCASTING::0',
      'CONFIRMING:PENDING_BLOCKCHAIN_CONFIRMATIONS:0',
      'CONFIRMING:PENDING_BLOCKCHAIN_CONFIRMATIONS:1',
      'COMPLETED:CONFIRMED:2',
    ])
    await p.sweep()
    expect(events).toHaveLength(7)
  })

  it('fails a transaction the chain reverted with REJECTED_BY_BLOCKCHAIN', async () => {
    signing = new FakeSigning()
    const node = await fakeNode({ revert: true })
    const { pipeline: p, db } = await pipeline(node, 1)
    const tx = await p.create(transfer)
    await p.idle()
    await p.sweep()
    const failed = await row(db, tx.id)
    expect(failed).toMatchObject({ status: 'FAILED', subStatus: 'REJECTED_BY_BLOCKCHAIN' })
    expect(failed.detail).toMatchObject({ blockInfo: { blockHeight: '101' } })
    expect(String(failed.detail.errorDescription)).toContain('reverted')
  })

  it('fails a transfer its source cannot pay before anything is signed', async () => {
    signing = new FakeSigning()
    const node = await fakeNode({ balance: MAX_COST - 1n })
    const { pipeline: p, db } = await pipeline(node, 1)
    const tx = await p.create(transfer)
    await p.idle()
    const failed = await row(db, tx.id)
    expect(failed).toMatchObject({ status: 'FAILED', subStatus: 'INSUFFICIENT_FUNDS' })
    expect(String(failed.detail.errorDescription)).toContain(String(MAX_COST))
    expect(signing.calls).toHaveLength(0)
    expect(node.sent).toHaveLength(0)
  })

  it('after a crash mid-broadcast, another run sends the same bytes once more and completes once', async () => {
    signing = new FakeSigning()
    const node = await fakeNode()
    node.dropNextSend = true // the node takes the transaction, the hub never hears back
    const first = await pipeline(node, 1)
    const tx = await first.pipeline.create(transfer)
    await first.pipeline.idle()
    expect((await row(first.db, tx.id)).status).toBe('BROADCASTING')
    await first.pipeline.close()

    const restarted = await pipeline(node, 1, first.url)
    // Sends again ("already known" counts as sent), then finds it mined, in one sweep.
    await restarted.pipeline.sweep()
    expect((await row(first.db, tx.id)).status).toBe('COMPLETED')
    await restarted.pipeline.sweep()
    expect(node.sent).toEqual([SIGNED, SIGNED])
    expect(signing.calls).toHaveLength(1)
    const history = await first.db.read((r) => readTransactionHistory(r, tx.id))
    expect(history.map((h) => h.status)).toEqual([
      'SUBMITTED',
      'QUEUED',
      'PENDING_SIGNATURE',
      'BROADCASTING',
      'CONFIRMING',
      'COMPLETED',
    ])
  })

  it('fails with INVALID_NONCE_TOO_LOW when another transaction took the nonce', async () => {
    signing = new FakeSigning()
    const node = await fakeNode()
    node.refuseNextSend = { code: -32000, message: 'nonce too low: next nonce 4, tx nonce 0' }
    const { pipeline: p, db } = await pipeline(node, 1)
    const tx = await p.create(transfer)
    await p.idle()
    const failed = await row(db, tx.id)
    expect(failed).toMatchObject({ status: 'FAILED', subStatus: 'INVALID_NONCE_TOO_LOW' })
    expect(String(failed.detail.errorDescription)).toContain('next nonce 4')
    expect(failed.detail.signedTransaction).toBe(SIGNED)
  })
})
