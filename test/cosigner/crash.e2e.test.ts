/**
 * A co-signer killed with SIGKILL in the middle of a signature (right after it approved, during the MPC
 * session) restarts, never reuses a pre-signature, and the transaction completes once: the restarted
 * process is another instance, so the hub hands the attempt on (here to the same co-signer, the only one)
 * and never two signatures for one transaction, as the cloud co-signers' own logs show.
 */
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { Fireblocks, TransactionResponse } from '@fireblocks/ts-sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  cloudLogByContent,
  cloudSignatureDifferences,
  createRaw,
  digestOf,
  startWorkspace,
  transactionIn,
  until,
  type Workspace,
} from '../hub/workspace.js'
import { readTransaction } from '../../src/storage/index.js'
import { ecdsaVerifies } from '../support/signatures.js'

let workspace: Workspace
let fireblocks: Fireblocks
let database: Database.Database

const createLabelled = (label: string) => createRaw(fireblocks, digestOf(label))
/** The label of each transaction's content, by its id. */
const labels = new Map<string, string>()

/** The co-signer's own record of the approval it gave for `txId` (its database, read beside it). */
const approved = (txId: string): boolean =>
  database.prepare(`SELECT 1 FROM cosigner_approvals WHERE tx_id = ? AND outcome = 'done'`).get(txId) !==
  undefined

beforeAll(async () => {
  // A short lease: the attempt of the killed co-signer is handed on in seconds.
  workspace = await startWorkspace({ signing: { budget: '60s', lease: '6s' } })
  fireblocks = workspace.sdk(workspace.owner)
  const signer = await workspace.createApiUser('crash signer', 'SIGNER')
  await workspace.startCosigner(signer, 'cosigner-k')
  database = new Database(join(workspace.dir, 'cosigner-k', 'cosigner.db'), { readonly: true })
  await fireblocks.vaults.createVaultAccount({ createVaultAccountRequest: { name: 'crash' } })
  await fireblocks.vaults.createVaultAccountAsset({ vaultAccountId: '0', assetId: 'ETH_TEST6' })
}, 300_000)

afterAll(async () => {
  database?.close()
  await workspace?.close()
})

describe('a co-signer killed in the middle of a signature', { timeout: 600_000 }, () => {
  it('restarts; each transaction completes once; no pre-signature is used, nor message signed, twice', async () => {
    const outcomes: TransactionResponse[] = []
    for (const delayMs of [0, 50, 150, 400]) {
      const txId = await createLabelled(`crash ${delayMs}`)
      labels.set(txId, `crash ${delayMs}`)
      await until(`the approval of ${txId}`, async () => (approved(txId) ? true : undefined), 60_000)
      await new Promise((resolve) => setTimeout(resolve, delayMs))
      await workspace.stopCosigner('cosigner-k', 'SIGKILL')
      workspace.restartCosigner('cosigner-k')
      const tx = await transactionIn(fireblocks, txId)
      expect(tx.status).toBe('COMPLETED')
      expect(ecdsaVerifies(tx)).toBe(true)
      outcomes.push(tx)
    }
    // After the crashes it signs as before.
    const afterId = await createLabelled('after the crashes')
    labels.set(afterId, 'after the crashes')
    const after = await transactionIn(fireblocks, afterId)
    expect(after.status).toBe('COMPLETED')
    expect(ecdsaVerifies(after)).toBe(true)

    // Every pre-signature the co-signer took is marked used, and its sealed state is gone.
    const presignatures = database
      .prepare(`SELECT used_at, sealed_b64 FROM cosigner_secrets WHERE kind = 'presignature'`)
      .all() as { used_at: number | null; sealed_b64: string }[]
    expect(presignatures.length).toBeGreaterThan(0)
    for (const row of presignatures.filter((p) => p.used_at !== null)) expect(row.sealed_b64).toBe('')

    // The clouds signed each message once: a restarted co-signer's attempt is handed to a new one, and
    // what the clouds authorized is of one transaction per content.
    const signed = await Promise.all(
      [...labels].map(async ([txId, label]) => ({
        txId,
        content: digestOf(label),
        attempt: (await workspace.hub.hub.db.read((reader) => readTransaction(reader, txId)))?.attempt ?? 0,
      })),
    )
    expect(await cloudSignatureDifferences(workspace, signed)).toEqual([])
    for (const party of ['cloud1', 'cloud2'] as const) {
      const authorizations = await cloudLogByContent(workspace, party, 'cloud-authorization')
      for (const [content, attempts] of authorizations)
        expect(new Set(attempts.map((attempt) => attempt.split(':')[0])).size, content).toBe(1)
    }
    for (const tx of outcomes) expect(tx.signedMessages).toHaveLength(1)
  }, 600_000)
})
