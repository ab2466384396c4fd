/**
 * Two hub replicas on one PostgreSQL schema (the clouds and the co-signer talk to the first only) keep the
 * hub's guarantees: a signed request's nonce is used once across both, every transaction created on either
 * is signed exactly once (one PENDING_SIGNATURE in its history, each content signed once in both cloud
 * co-signers' logs), and the shared audit chain verifies. A replica killed with SIGKILL in the middle of a
 * load loses nothing: the survivor takes over its transactions once their leases run out, and signs none
 * twice. Under CI=true these run and fail without PostgreSQL; locally they need COUNTERSIGN_TEST_PG_URL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningHub } from '../../src/hub/index.js'
import { signRequest } from '../../src/keys/index.js'
import { SIGNING_ALGORITHMS } from '../../src/protocol/index.js'
import {
  readAudit,
  readTransaction,
  readTransactionByExternalId,
  readTransactionHistory,
  verifyChain,
  type StorageDatabase,
} from '../../src/storage/index.js'
import { pgUrl, postgresDatabase } from '../support/databases.js'
import { ecdsaVerifies } from '../support/signatures.js'
import {
  cloudSignatureDifferences,
  createRaw,
  digestOf,
  rawRequest,
  startWorkspace,
  transactionIn,
  until,
  type ApiUser,
  type Workspace,
} from './workspace.js'

const TRANSACTIONS = 20
const LOAD = 30
/** Every transaction signed so far (by either test), with its content: the clouds' logs must match. */
const signed: { txId: string; content: string }[] = []

let workspace: Workspace
let replica: RunningHub
let signer: ApiUser

/** The hub store's reads, as the audit chain's readers take them. */
const reader =
  (db: StorageDatabase): Parameters<typeof verifyChain>[0] =>
  (work) =>
    db.read(work)

describe.skipIf(pgUrl === undefined)('two hub replicas on one PostgreSQL schema', () => {
  beforeAll(async () => {
    // A short lease: a killed replica's attempts are taken over in seconds.
    workspace = await startWorkspace({ store: await postgresDatabase.freshUrl(), signing: { lease: '6s' } })
    replica = await workspace.startReplica()
    signer = await workspace.createApiUser('replicated signer', 'SIGNER')
    await workspace.startCosigner(signer, 'cosigner-r')
    const fireblocks = workspace.sdk(workspace.owner)
    await fireblocks.vaults.createVaultAccount({ createVaultAccountRequest: { name: 'replicas' } })
    await fireblocks.vaults.createVaultAccountAsset({ vaultAccountId: '0', assetId: 'ETH_TEST6' })
  }, 300_000)

  afterAll(async () => {
    await workspace?.close()
    await postgresDatabase.dropAll()
  })

  it('generates each key set once, though both replicas run the key generations', async () => {
    // The job ids of hub/signing/key-manager.ts: a second try would mean a second, competing generation.
    for (const algorithm of SIGNING_ALGORITHMS) {
      const job = (attempt: number) =>
        workspace.hub.hub.link.jobResult(`keygen:${signer.id}:${algorithm}:${attempt}`)
      expect(await job(1)).toMatchObject({ state: 'done' })
      expect(await job(2)).toBeUndefined()
    }
  })

  it('refuses on replica B (−7) a signed request replica A accepted', async () => {
    const { headers } = await signRequest({
      apiKey: workspace.owner.id,
      privateKey: workspace.owner.privateKey,
      url: '/v1/transactions',
    })
    const onA = await fetch(`${workspace.url}/v1/transactions`, { headers })
    expect(onA.status).toBe(200)
    const onB = await fetch(`${replica.url}/v1/transactions`, { headers })
    expect(onB.status).toBe(401)
    expect(await onB.json()).toMatchObject({ code: -7 })
  })

  it(`signs each of ${TRANSACTIONS} RAW transactions created alternately on A and B exactly once`, async () => {
    const hubs = [workspace.sdk(workspace.owner), workspace.sdk(workspace.owner, replica.url)] as const
    const contents = Array.from({ length: TRANSACTIONS }, (_, index) => digestOf(`replicated ${index}`))
    const txIds = await Promise.all(contents.map((content, index) => createRaw(hubs[index % 2]!, content)))
    for (const [index, txId] of txIds.entries()) {
      const tx = await transactionIn(hubs[(index + 1) % 2]!, txId)
      expect(tx).toMatchObject({ status: 'COMPLETED' })
      expect(tx.signedMessages?.map((message) => message.content)).toEqual([contents[index]])
    }

    const db = workspace.hub.hub.db
    for (const txId of txIds) {
      const history = await db.read((executor) => readTransactionHistory(executor, txId))
      expect(history.filter((change) => change.status === 'PENDING_SIGNATURE')).toHaveLength(1)
    }

    expect(await verifyChain(reader(db))).toMatchObject({ ok: true })
    const signatures = await hubSignatures(db)
    for (const txId of txIds) expect(signatures.get(txId), txId).toBe(1)
    signed.push(...txIds.map((txId, index) => ({ txId, content: contents[index] as string })))
  }, 240_000)

  it('loses nothing and signs nothing twice when a replica is killed in the middle of a load', async () => {
    const killed = await workspace.startReplicaProcess()
    const primary = workspace.sdk(workspace.owner)
    const hubs = [primary, workspace.sdk(workspace.owner, killed.url)] as const
    const load = Array.from({ length: LOAD }, (_, index) => ({
      externalTxId: `killed-replica-${index}`,
      content: digestOf(`killed replica ${index}`),
    }))
    /** Creates it on `hub`; a request cut by the kill is sent again to the primary, as a client would. */
    const create = async (item: (typeof load)[number], hub: (typeof hubs)[number]) => {
      const request = rawRequest(item.content, { externalTxId: item.externalTxId })
      try {
        await hub.transactions.createTransaction({ transactionRequest: request })
      } catch {
        // Created before the cut (the same externalTxId is then refused) or not: the primary knows which.
        await primary.transactions.createTransaction({ transactionRequest: request }).catch(() => undefined)
      }
    }
    const creations = load.map((item, index) =>
      new Promise((resolve) => setTimeout(resolve, index * 150)).then(() => create(item, hubs[index % 2]!)),
    )
    // Mid-load: a transaction created on the replica is being signed, and more are on their way.
    const onReplica = load.filter((_, index) => index % 2 === 1).map((item) => item.externalTxId)
    await until(
      'the replica to be signing some of the load',
      async () => ((await signingAmong(workspace.hub.hub.db, onReplica)) ? true : undefined),
      120_000,
    )
    killed.process.child.kill('SIGKILL')
    await killed.process.exited
    await Promise.all(creations)

    const db = workspace.hub.hub.db
    for (const item of load) {
      const { data } = await primary.transactions.getTransactionByExternalId({
        externalTxId: item.externalTxId,
      })
      const tx = await transactionIn(primary, data.id as string)
      expect(tx, item.externalTxId).toMatchObject({ status: 'COMPLETED' })
      expect(ecdsaVerifies(tx, item.content)).toBe(true)
      const history = await db.read((executor) => readTransactionHistory(executor, data.id as string))
      expect(history.filter((change) => change.status === 'COMPLETED')).toHaveLength(1)
      signed.push({ txId: data.id as string, content: item.content })
    }
    const signatures = await hubSignatures(db)
    for (const { txId } of signed) expect(signatures.get(txId), txId).toBe(1)

    const attempts = await Promise.all(
      signed.map(async (tx) => ({
        ...tx,
        attempt: (await db.read((executor) => readTransaction(executor, tx.txId)))?.attempt ?? 0,
      })),
    )
    expect(await cloudSignatureDifferences(workspace, attempts)).toEqual([])
    // The replica was killed with attempts under way: the survivor took them over as new attempts.
    expect(attempts.filter((tx) => tx.attempt > 1).length).toBeGreaterThan(0)
  }, 600_000)
})

/** Whether one of the transactions with these externalTxIds is being signed now. */
async function signingAmong(db: StorageDatabase, externalTxIds: readonly string[]): Promise<boolean> {
  for (const externalTxId of externalTxIds) {
    const tx = await db.read((executor) => readTransactionByExternalId(executor, externalTxId))
    if (tx?.status === 'PENDING_SIGNATURE') return true
  }
  return false
}

/** How many `signature` entries the hub's audit chain holds for each transaction. */
async function hubSignatures(db: StorageDatabase): Promise<Map<string, number>> {
  const signatures = new Map<string, number>()
  for await (const entry of readAudit(reader(db)))
    if (entry.event === 'signature' && entry.requestId !== null)
      signatures.set(entry.requestId, (signatures.get(entry.requestId) ?? 0) + 1)
  return signatures
}
