/**
 * High availability (issue 15): two co-signers, each paired with its own Signer API user and its own callback
 * handler, designated as a group by one policy rule. The hub offers each transaction to the least loaded one
 * it hears from, under a lease the attempt number fences. A co-signer whose process is stopped (SIGSTOP: a
 * network cut, seen from the hub) loses its lease and the transaction completes on the other; resumed, it
 * does not finish the old attempt. A co-signer killed with SIGKILL in the middle of a load of 100
 * transactions and restarted costs none of them: each completes exactly once, each signature verifies, and
 * the cloud co-signers' own logs show every message signed once.
 */
import { join } from 'node:path'
import type { Fireblocks } from '@fireblocks/ts-sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { approvalJobId, callbackRequestId, signJobId } from '../../src/hub/index.js'
import { readKeySets, readTransaction, readTransactionHistory } from '../../src/storage/index.js'
import {
  attachScriptedHandler,
  startScriptedHandler,
  type ScriptedHandler,
} from '../cosigner/scripted-handler.js'
import type { CliProcess } from '../support/process.js'
import { ecdsaVerifies } from '../support/signatures.js'
import {
  cloudSignatureDifferences,
  createRaw,
  digestOf,
  startWorkspace,
  transactionIn,
  until,
  type ApiUser,
  type Workspace,
} from './workspace.js'

const LOAD = 100

let workspace: Workspace
let fireblocks: Fireblocks
const signers: Record<'a' | 'b', ApiUser> = {} as Record<'a' | 'b', ApiUser>
const handlers: Record<'a' | 'b', ScriptedHandler> = {} as Record<'a' | 'b', ScriptedHandler>
let cosignerA: CliProcess
/** Every transaction signed here, with the content it asked for: the clouds' logs must show each once. */
const signed: { txId: string; content: string }[] = []

const db = () => workspace.hub.hub.db
const stored = async (txId: string) => (await db().read((reader) => readTransaction(reader, txId)))!
const job = (id: string) => workspace.hub.hub.link.jobResult(id)

const createTransaction = (content: string, externalTxId: string) =>
  createRaw(fireblocks, content, { externalTxId })

/** An attempt of `signer` whose approval is given and whose signature is under way, if there is one now. */
async function signingNow(
  signer: ApiUser,
  txIds: Iterable<string>,
): Promise<{ txId: string; attempt: number } | undefined> {
  for (const txId of txIds) {
    const tx = await stored(txId)
    if (tx.status !== 'PENDING_SIGNATURE' || tx.signer !== signer.id) continue
    const approval = await job(approvalJobId(txId, tx.attempt))
    const signature = await job(signJobId(txId, tx.attempt, 0))
    if (approval?.state === 'done' && signature?.state === 'pending') return { txId, attempt: tx.attempt }
  }
  return undefined
}

/** Points `name`'s co-signer at its own scripted callback handler, which trusts only that co-signer. */
async function attachHandler(name: 'a' | 'b'): Promise<void> {
  handlers[name] = await startScriptedHandler()
  await attachScriptedHandler(handlers[name], join(workspace.dir, `cosigner-${name}`), signers[name].id)
}

beforeAll(async () => {
  // A short lease (heartbeats every 2 s): a silent or restarted co-signer's attempt is handed on in seconds.
  workspace = await startWorkspace({ signing: { budget: '60s', lease: '6s' } })
  fireblocks = workspace.sdk(workspace.owner)
  const admin = await workspace.createApiUser('failover admin', 'ADMIN')
  signers.a = await workspace.createApiUser('signer a', 'SIGNER')
  signers.b = await workspace.createApiUser('signer b', 'SIGNER')
  cosignerA = await workspace.startCosigner(signers.a, 'cosigner-a')
  await fireblocks.vaults.createVaultAccount({ createVaultAccountRequest: { name: 'failover' } })
  await fireblocks.vaults.createVaultAccountAsset({ vaultAccountId: '0', assetId: 'ETH_TEST6' })
  await workspace.startCosigner(signers.b, 'cosigner-b')
  await until(
    'the second co-signer’s reshared sets',
    async () => ((await db().read(readKeySets)).length === 4 ? true : undefined),
    240_000,
  )
  await attachHandler('a')
  await attachHandler('b')
  await workspace.publishPolicy(
    `version: 1
rules:
  - id: either-cosigner
    match: { operation: [RAW], source.type: [VAULT_ACCOUNT] }
    action: ALLOW
    signers: [${signers.a.id}, ${signers.b.id}]
`,
    admin,
  )
}, 600_000)

afterAll(async () => {
  if (cosignerA?.child.exitCode === null) cosignerA.child.kill('SIGCONT') // never leave it stopped
  await workspace?.close()
  await Promise.all(Object.values(handlers).map((handler) => handler.close()))
})

describe('first-available dispatch with failover', { timeout: 900_000 }, () => {
  it('hands the attempt of a co-signer cut off (SIGSTOP) to the other; resumed, it does not finish it', async () => {
    let caught: { txId: string; attempt: number; content: string } | undefined
    for (let round = 0; caught === undefined; round++) {
      expect(round, 'an attempt of co-signer A caught in the middle of its signature').toBeLessThan(12)
      const content = digestOf(`cut off ${round}`)
      const txId = await createTransaction(content, `cut-off-${round}`)
      const found = await until(`transaction ${txId} signing or finished`, async () => {
        const attempt = await signingNow(signers.a, [txId])
        if (attempt !== undefined) return attempt
        return (await stored(txId)).status === 'COMPLETED' ? null : undefined
      })
      if (found !== null) cosignerA.child.kill('SIGSTOP')
      const still = found !== null && (await job(signJobId(txId, found.attempt, 0)))?.state === 'pending'
      if (found !== null && !still) cosignerA.child.kill('SIGCONT')
      await transactionIn(fireblocks, txId)
      signed.push({ txId, content })
      if (still) caught = { ...found, content }
    }
    const tx = await transactionIn(fireblocks, caught.txId)
    expect(tx.status).toBe('COMPLETED')
    expect(tx.signedBy).toEqual([signers.b.id])
    expect(ecdsaVerifies(tx, caught.content)).toBe(true)
    expect((await stored(caught.txId)).attempt).toBeGreaterThan(caught.attempt)

    cosignerA.child.kill('SIGCONT')
    // Back, it reads the cancellation of its attempt: its late messages and result change nothing.
    await new Promise((resolve) => setTimeout(resolve, 8_000))
    expect(await job(signJobId(caught.txId, caught.attempt, 0))).toMatchObject({
      state: 'failed',
      result: { cancelled: true },
    })
    expect(await stored(caught.txId)).toMatchObject({ status: 'COMPLETED', signer: signers.b.id })
    const history = await db().read((reader) => readTransactionHistory(reader, caught.txId))
    expect(history.filter((change) => change.status === 'COMPLETED')).toHaveLength(1)
  })

  it(`signs ${LOAD} transactions once each while a co-signer is killed (SIGKILL) mid-signature and restarted`, async () => {
    const load = Array.from({ length: LOAD }, (_, index) => ({
      externalTxId: `failover-${index}`,
      content: digestOf(`failover ${index}`),
    }))
    const txIds = new Map<string, string>()
    const submitting = (async () => {
      for (let at = 0; at < LOAD; at += 10)
        await Promise.all(
          load
            .slice(at, at + 10)
            .map(async (item) =>
              txIds.set(item.externalTxId, await createTransaction(item.content, item.externalTxId)),
            ),
        )
    })()
    const caught = await until(
      'co-signer A in the middle of a signature',
      () => signingNow(signers.a, txIds.values()),
      300_000,
    )
    await workspace.stopCosigner('cosigner-a', 'SIGKILL')
    cosignerA = workspace.restartCosigner('cosigner-a')
    await submitting

    const signedBy = new Map<string, number>()
    for (const item of load) {
      const txId = txIds.get(item.externalTxId) as string
      const tx = await transactionIn(fireblocks, txId)
      expect(tx.status, item.externalTxId).toBe('COMPLETED')
      expect(ecdsaVerifies(tx, item.content), item.externalTxId).toBe(true)
      const history = await db().read((reader) => readTransactionHistory(reader, txId))
      expect(history.filter((change) => change.status === 'COMPLETED')).toHaveLength(1)
      const signer = tx.signedBy?.[0] as string
      signedBy.set(signer, (signedBy.get(signer) ?? 0) + 1)
      signed.push({ txId, content: item.content })
    }
    // The attempt caught mid-signature was handed on; both co-signers took a share of the load.
    expect((await stored(caught.txId)).attempt).toBeGreaterThan(caught.attempt)
    expect([...signedBy.keys()].sort()).toEqual([signers.a.id, signers.b.id].sort())

    // Each callback handler was asked only for its own co-signer's API user, and for every transaction that
    // co-signer signed, under the attempt that signed it.
    for (const name of ['a', 'b'] as const) {
      expect(new Set(handlers[name].seen.map((request) => request.signerId))).toEqual(
        new Set([signers[name].id]),
      )
      const asked = new Set(handlers[name].seen.map((request) => request.requestId))
      for (const { txId } of signed) {
        const tx = await stored(txId)
        if (tx.signer !== signers[name].id) continue
        expect(asked, txId).toContain(callbackRequestId(txId, tx.attempt))
      }
    }

    // No message hash signed twice: each cloud completed one signature per content, of its final attempt.
    const attempts = await Promise.all(
      signed.map(async (tx) => ({ ...tx, attempt: (await stored(tx.txId)).attempt })),
    )
    expect(await cloudSignatureDifferences(workspace, attempts)).toEqual([])
  })
})
