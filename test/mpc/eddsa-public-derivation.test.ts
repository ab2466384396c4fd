import { beforeAll, describe, expect, it } from 'vitest'
import {
  createFrostEddsaEngine,
  deriveEddsaPublic,
  eddsaPublicKey,
  type EddsaKeyShare,
} from '../../src/mpc/index.js'
import { runProtocol } from './harness.js'

const engine = createFrostEddsaEngine()

let shares: EddsaKeyShare[]
beforeAll(async () => {
  const holders = ['cloud1', 'cloud2', 'alice']
  const results = await runProtocol((session) =>
    holders.map((self) => engine.keygen({ self, session, holders })),
  )
  shares = holders.map((h) => results.get(h) as EddsaKeyShare)
})

describe('Ed25519 public derivation', () => {
  it('gives, from the group key and chain code alone, exactly the key every share derives', async () => {
    const root = shares[0] as EddsaKeyShare
    for (const path of [[], [0], [44, 1, 7, 0, 0], [44, 1, 7, 0, 1], [2 ** 31 - 1, 5]]) {
      const fromPublic = deriveEddsaPublic(eddsaPublicKey(root), root.chainCode, path)
      for (const share of shares) {
        const derived = await engine.derive(share, path)
        expect(fromPublic.publicKey, `path ${path.join('/')}`).toEqual(eddsaPublicKey(derived))
        expect(fromPublic.chainCode).toEqual(derived.chainCode)
      }
    }
  })

  it('gives distinct keys for distinct paths and refuses hardened indices', () => {
    const root = shares[0] as EddsaKeyShare
    const key = (path: number[]) =>
      Buffer.from(deriveEddsaPublic(eddsaPublicKey(root), root.chainCode, path).publicKey).toString('hex')
    expect(new Set([key([44, 1, 7, 0, 0]), key([44, 1, 7, 0, 1]), key([44, 1, 8, 0, 0])]).size).toBe(3)
    expect(() => deriveEddsaPublic(eddsaPublicKey(root), root.chainCode, [2 ** 31])).toThrow(
      expect.objectContaining({ code: 'CS_MPC_BAD_INPUT' }),
    )
  })
})
