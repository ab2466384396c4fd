/**
 * High availability (docs/mpc.md, "Topology"): two Signer API users, each paired with its own co-signer
 * (child processes). The first co-signer's key generation creates the workspace keys; the second gets its own
 * 3-of-3 sets {cloud1, cloud2, B} by resharing them from the first's set — never from a co-signer that has
 * stopped — with the same public keys and chain codes. RAW signatures through the official
 * `@fireblocks/ts-sdk` then succeed with each co-signer as the designated signer, and every one verifies under
 * the same vault address and public key.
 */
import { base58 } from '@scure/base'
import type { Fireblocks, TransactionResponse } from '@fireblocks/ts-sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SIGNING_ALGORITHMS } from '../../src/protocol/index.js'
import { systemClock } from '../../src/core/index.js'
import { HubLinkStore, readKeySets, readWorkspaceKeys } from '../../src/storage/index.js'
import { ecdsaSignerAddress, ecdsaVerifies, ed25519Verifies } from '../support/signatures.js'
import {
  createRaw,
  digestOf,
  startWorkspace,
  transactionIn,
  until,
  type ApiUser,
  type Workspace,
} from './workspace.js'

let workspace: Workspace
let fireblocks: Fireblocks
let admin: ApiUser
let signerA: ApiUser
let signerB: ApiUser
const deposit: Record<string, string> = {}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')
const keySets = () => workspace.hub.hub.db.read(readKeySets)
const workspaceKeys = () => workspace.hub.hub.db.read(readWorkspaceKeys)
const job = (id: string) => workspace.hub.hub.link.jobResult(id)
/** The hub's record of the user's co-signer (heartbeat, goodbye), read from its store. */
const party = (user: ApiUser) => new HubLinkStore(workspace.hub.hub.db, systemClock).party(user.id)

/** A RAW signature of `content` on vault 0's `assetId`, with `note` choosing the rule (and so the signer). */
async function rawSign(assetId: string, content: string, note: string): Promise<TransactionResponse> {
  return transactionIn(fireblocks, await createRaw(fireblocks, content, { assetId, note }))
}

beforeAll(async () => {
  workspace = await startWorkspace()
  fireblocks = workspace.sdk(workspace.owner)
  admin = await workspace.createApiUser('policy admin', 'ADMIN')
  signerA = await workspace.createApiUser('signer a', 'SIGNER')
  signerB = await workspace.createApiUser('signer b', 'SIGNER')
  await workspace.startCosigner(signerA, 'cosigner-a')
  await fireblocks.vaults.createVaultAccount({ createVaultAccountRequest: { name: 'two co-signers' } })
  for (const assetId of ['ETH_TEST6', 'SOL_TEST'])
    deposit[assetId] = (await fireblocks.vaults.createVaultAccountAsset({ vaultAccountId: '0', assetId }))
      .data.address as string
  await workspace.publishPolicy(
    `version: 1
rules:
  - { id: via-a, match: { operation: [RAW] }, when: "note == 'via a'", action: ALLOW, signers: [${signerA.id}] }
  - { id: via-b, match: { operation: [RAW] }, when: "note == 'via b'", action: ALLOW, signers: [${signerB.id}] }
`,
    admin,
  )
}, 300_000)

afterAll(async () => {
  await workspace?.close()
})

describe('a second co-signer, its key sets by resharing', () => {
  it('deals no set from a co-signer that stopped: the second co-signer waits for one that is available', async () => {
    expect((await keySets()).filter((set) => set.party === signerA.id)).toHaveLength(2)
    await workspace.stopCosigner('cosigner-a', 'SIGTERM')
    // It closed its WebSocket with 1000: the hub knows it left, without waiting out the heartbeat window.
    await until('the hub to see co-signer A leave', async () =>
      (await party(signerA))?.leftAt != null ? true : undefined,
    )
    await workspace.startCosigner(signerB, 'cosigner-b')
    const seen = await until('co-signer B to poll', async () => (await party(signerB))?.lastSeen ?? undefined)
    // Several reconciles (every 2 s) with B online and needing sets, and A the only set holder, stopped.
    await new Promise((resolve) => setTimeout(resolve, 7_000))
    for (const algorithm of SIGNING_ALGORITHMS) {
      expect(await job(`reshare:${signerB.id}:${algorithm}:1`)).toBeUndefined()
      expect(await job(`keygen:${signerB.id}:${algorithm}:1`)).toBeUndefined()
    }
    expect((await keySets()).filter((set) => set.party === signerB.id)).toEqual([])
    expect((await party(signerB))?.lastSeen).toBeGreaterThanOrEqual(seen)
    workspace.restartCosigner('cosigner-a')
  })

  it('gives it a set of each workspace key, reshared from the first co-signer’s with its key and chain code', async () => {
    await until(
      'both co-signers to hold both sets',
      async () => ((await keySets()).length === 4 ? true : undefined),
      240_000,
    )
    const keys = await workspaceKeys()
    expect(keys).toHaveLength(2)
    const sets = await keySets()
    for (const key of keys) {
      const holders = sets.filter((set) => set.algorithm === key.algorithm)
      expect(holders.map((set) => set.party).sort()).toEqual([signerA.id, signerB.id].sort())
      for (const set of holders) expect(set.publicKey).toBe(key.publicKey)
      const reshare = await job(`reshare:${signerB.id}:${key.algorithm}:1`)
      expect(reshare).toMatchObject({
        kind: 'keygen',
        state: 'done',
        holders: ['cloud1', 'cloud2', signerB.id],
        participants: ['cloud1', 'cloud2', signerB.id, signerA.id],
        reshare: {
          dealers: ['cloud1', 'cloud2', signerA.id],
          expectedPublicKey: key.publicKey,
          expectedChainCode: key.chainCode,
        },
        result: { publicKey: key.publicKey, chainCode: key.chainCode },
      })
      expect(await job(`keygen:${signerB.id}:${key.algorithm}:1`)).toBeUndefined()
    }
  })

  it('signs RAW with each co-signer as the designated signer, under one vault address and public key', async () => {
    // A cloud co-signer never signs one content under two transactions: each signature is of its own digest.
    const digests = ['via a', 'via b'].map((via) => digestOf(`ecdsa ${via}`))
    const ecdsa = [
      await rawSign('ETH_TEST6', digests[0]!, 'via a'),
      await rawSign('ETH_TEST6', digests[1]!, 'via b'),
    ]
    expect(ecdsa.map((tx) => [tx.status, tx.signedBy])).toEqual([
      ['COMPLETED', [signerA.id]],
      ['COMPLETED', [signerB.id]],
    ])
    const ecdsaKeys = new Set<string>()
    for (const [index, tx] of ecdsa.entries()) {
      const digest = digests[index] as string
      ecdsaKeys.add(tx.signedMessages?.[0]?.publicKey as string)
      expect(ecdsaVerifies(tx, digest)).toBe(true)
      expect(await ecdsaSignerAddress(tx, digest)).toBe(deposit['ETH_TEST6'])
    }
    expect(ecdsaKeys.size).toBe(1)

    const messages = ['via a', 'via b'].map((via) =>
      hex(new TextEncoder().encode(`an Ed25519 message ${via}`)),
    )
    const eddsa = [
      await rawSign('SOL_TEST', messages[0]!, 'via a'),
      await rawSign('SOL_TEST', messages[1]!, 'via b'),
    ]
    expect(eddsa.map((tx) => [tx.status, tx.signedBy])).toEqual([
      ['COMPLETED', [signerA.id]],
      ['COMPLETED', [signerB.id]],
    ])
    for (const [index, tx] of eddsa.entries()) {
      const signed = tx.signedMessages?.[0]
      expect(base58.encode(Buffer.from(signed?.publicKey as string, 'hex'))).toBe(deposit['SOL_TEST'])
      expect(ed25519Verifies(tx, messages[index] as string)).toBe(true)
    }
  })
})
