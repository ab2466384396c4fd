/**
 * Two hub replicas on one PostgreSQL schema (the clouds and the co-signer talk to the first only) keep the
 * hub's guarantees: a signed request's nonce is used once across both, every transaction created on either
 * is signed exactly once (one PENDING_SIGNATURE in its history, each content under one transaction in both
 * cloud co-signers' logs), and the shared audit chain verifies. Under CI=true these run and fail without
 * PostgreSQL; locally they need COUNTERSIGN_TEST_PG_URL.
 */
import { keccak_256 } from '@noble/hashes/sha3.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningHub } from '../../src/hub/index.js'
import { signRequest } from '../../src/keys/index.js'
import { SIGNING_ALGORITHMS } from '../../src/protocol/index.js'
import {
  readAudit,
  readTransactionHistory,
  verifyChain,
  type StorageDatabase,
} from '../../src/storage/index.js'
import { pgUrl, postgresDatabase } from '../support/databases.js'
import { cloudSignings, startWorkspace, transactionIn, type ApiUser, type Workspace } from './workspace.js'

const TRANSACTIONS = 20

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
    workspace = await startWorkspace({ store: await postgresDatabase.freshUrl() })
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
    const contents = Array.from({ length: TRANSACTIONS }, (_, index) =>
      Buffer.from(keccak_256(new TextEncoder().encode(`replicated ${index}`))).toString('hex'),
    )
    const txIds = await Promise.all(
      contents.map(async (content, index) => {
        const created = await hubs[index % 2]!.transactions.createTransaction({
          transactionRequest: {
            operation: 'RAW',
            assetId: 'ETH_TEST6',
            source: { type: 'VAULT_ACCOUNT', id: '0' },
            extraParameters: { rawMessageData: { messages: [{ content }] } },
          },
        })
        return created.data.id as string
      }),
    )
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

    await workspace.stopClouds()
    for (const party of ['cloud1', 'cloud2'] as const) {
      const signings = await cloudSignings(workspace, party)
      for (const [index, txId] of txIds.entries())
        expect(signings.get(contents[index] as string), `${party}, content ${index}`).toEqual([txId])
    }

    expect(await verifyChain(reader(db))).toMatchObject({ ok: true })
    const signatures = new Map<string, number>()
    for await (const entry of readAudit(reader(db)))
      if (entry.event === 'signature' && entry.requestId !== null)
        signatures.set(entry.requestId, (signatures.get(entry.requestId) ?? 0) + 1)
    for (const txId of txIds) expect(signatures.get(txId), txId).toBe(1)
  }, 240_000)
})
