import { ed25519 } from '@noble/curves/ed25519.js'
import { randomBytes } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  createFrostEddsaEngine,
  eddsaPublicKey,
  MemoryPresignatureStore,
  type EddsaKeyShare,
  type PresignatureStore,
} from '../../src/mpc/index.js'
import { crashMidSignature } from './crash-harness.js'
import { hostileRelay, presignAll, runProtocol, type Relay } from './harness.js'

const engine = createFrostEddsaEngine()
const PATH = [7, 3]

async function keygen(holders: string[], from?: EddsaKeyShare[]): Promise<EddsaKeyShare[]> {
  const dealers = from?.map((s) => s.self)
  const everyone = [...new Set([...(dealers ?? []), ...holders])]
  const results = await runProtocol((session) =>
    everyone.map((self) => {
      const share = from?.find((s) => s.self === self)
      return engine.keygen({
        self,
        session,
        holders,
        ...(dealers === undefined ? {} : { reshare: { dealers, ...(share === undefined ? {} : { share }) } }),
      })
    }),
  )
  return holders.map((h) => results.get(h) as EddsaKeyShare)
}

async function signWith(shares: EddsaKeyShare[], message: Uint8Array, relay?: Relay) {
  const stores = new Map<string, PresignatureStore>(
    shares.map((s) => [s.self, new MemoryPresignatureStore()]),
  )
  const id = await presignAll(engine, shares, stores, PATH, relay)
  const run = () =>
    runProtocol(
      () =>
        Promise.all(shares.map((s) => engine.sign(s, stores.get(s.self) as PresignatureStore, id, message))),
      relay,
    )
  const signature = [...(await run()).values()][0] as Uint8Array
  return { signature, again: run }
}

let setA: EddsaKeyShare[]
let setB: EddsaKeyShare[]
beforeAll(async () => {
  setA = await keygen(['cloud1', 'cloud2', 'alice'])
  setB = await keygen(['cloud1', 'cloud2', 'bob'], setA)
})

describe('Ed25519 key sets', () => {
  it('two sets (one by reshare) sign for the same derived key; signatures verify with noble, strict and ZIP-215', async () => {
    const child = eddsaPublicKey(await engine.derive(setA[0] as EddsaKeyShare, PATH))
    expect(eddsaPublicKey(await engine.derive(setB[0] as EddsaKeyShare, PATH))).toEqual(child)
    for (const set of [setA, setB]) {
      const message = new Uint8Array(randomBytes(40))
      const { signature } = await signWith(set, message)
      expect(ed25519.verify(signature, message, child)).toBe(true)
      expect(ed25519.verify(signature, message, child, { zip215: false })).toBe(true)
      expect(ed25519.verify(signature, new Uint8Array(randomBytes(40)), child)).toBe(false)
    }
  })

  it('refuses nonces used once, shares mixed across sets, and a missing holder', async () => {
    const { again } = await signWith(setA, new Uint8Array(8))
    await expect(again()).rejects.toMatchObject({ code: 'CS_MPC_PRESIGNATURE_USED' })
    const impostor = {
      ...(setB[2] as EddsaKeyShare),
      self: 'alice',
      holders: (setA[2] as EddsaKeyShare).holders,
    }
    await expect(
      signWith([setA[0], setA[1], impostor] as EddsaKeyShare[], new Uint8Array(8)),
    ).rejects.toMatchObject({ code: 'CS_MPC_PEER_CHEATED' })
    await expect(signWith([setA[0], setA[1]] as EddsaKeyShare[], new Uint8Array(8))).rejects.toMatchObject({
      code: 'CS_MPC_MESSAGE_MISSING',
    })
  })

  it('refuses nonces taken by a signer killed mid-signature, after its restart; no two signatures share a nonce commitment', async () => {
    const observed = await crashMidSignature({
      algorithm: 'eddsa',
      shares: setA,
      sign: (share, store, id, message) => engine.sign(share, store, id, message),
      presign: (stores) => presignAll(engine, setA, stores, PATH),
    })
    expect(observed.refusals).toEqual([
      'CS_MPC_PRESIGNATURE_USED',
      'CS_MPC_PRESIGNATURE_USED',
      'CS_MPC_PRESIGNATURE_USED',
    ])
    const child = eddsaPublicKey(await engine.derive(setA[0] as EddsaKeyShare, PATH))
    const [first, second] = observed.messages
    expect(ed25519.verify(observed.fromKilledSession, first, child)).toBe(true)
    for (const signature of observed.afterRestart) expect(ed25519.verify(signature, second, child)).toBe(true)
    const signatures = [observed.fromKilledSession, ...observed.afterRestart].map((s) =>
      Buffer.from(s).toString('hex'),
    )
    // The first 32 bytes of an Ed25519 signature are R, the aggregate nonce commitment.
    expect(new Set(signatures.map((s) => s.slice(0, 64))).size).toBe(new Set(signatures).size)
    expect(new Set(signatures).size).toBe(2)
  }, 60_000)

  it('refresh changes every share, keeps the key; a hostile relay never yields a signature for another message', async () => {
    const refreshed = await keygen(['cloud1', 'cloud2', 'alice'], setA)
    refreshed.forEach((s, i) =>
      expect(s.key.secret.signingShare).not.toEqual(setA[i]?.key.secret.signingShare),
    )
    expect(eddsaPublicKey(refreshed[0] as EddsaKeyShare)).toEqual(eddsaPublicKey(setA[0] as EddsaKeyShare))
    const child = eddsaPublicKey(await engine.derive(setA[0] as EddsaKeyShare, PATH))
    for (let seed = 1; seed <= 10; seed++) {
      const message = new Uint8Array(randomBytes(32))
      const outcome = await signWith(
        refreshed,
        message,
        hostileRelay(seed, { drop: 0.05, duplicate: 0.3, tamper: 0.1 }),
      ).catch((e: { code: string }) => e)
      if ('signature' in outcome) {
        expect(ed25519.verify(outcome.signature, message, child)).toBe(true)
        expect(ed25519.verify(outcome.signature, new Uint8Array(randomBytes(32)), child)).toBe(false)
      } else expect(outcome.code).toMatch(/^CS_MPC_/)
    }
  })
})
