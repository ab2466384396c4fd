import { secp256k1 } from '@noble/curves/secp256k1.js'
import { HDKey } from '@scure/bip32'
import { publicKeyToAddress } from 'viem/accounts'
import {
  createDklsEcdsaEngine,
  ecdsaChainCode,
  ecdsaPublicKey,
  MemoryPresignatureStore,
  type EcdsaKeyShare,
  type EcdsaSignature,
  type PresignatureStore,
} from '../../src/mpc/index.js'
import { honestRelay, presignAll, runProtocol, type Relay } from './harness.js'

export const engine = createDklsEcdsaEngine()

export async function dkg(customer: string): Promise<EcdsaKeyShare[]> {
  const holders = ['cloud1', 'cloud2', customer]
  const results = await runProtocol((session) =>
    holders.map((self) => engine.keygen({ self, session, holders })),
  )
  return holders.map((h) => results.get(h) as EcdsaKeyShare)
}

/** Reshares `from` (a full set) to [cloud1, cloud2, customer]; refresh when the customer is the same. */
export async function reshare(from: EcdsaKeyShare[], customer: string): Promise<EcdsaKeyShare[]> {
  const dealers = from.map((s) => s.self)
  const holders = ['cloud1', 'cloud2', customer]
  const everyone = [...new Set([...dealers, ...holders])]
  const results = await runProtocol((session) =>
    everyone.map((self) => {
      const share = from.find((s) => s.self === self)
      return engine.keygen({
        self,
        session,
        holders,
        reshare: { dealers, ...(share === undefined ? {} : { share }) },
      })
    }),
  )
  return holders.map((h) => results.get(h) as EcdsaKeyShare)
}

/** Each party's own pre-signature store, as each machine would have. */
export const storesFor = (shares: EcdsaKeyShare[]) =>
  new Map<string, PresignatureStore>(shares.map((s) => [s.self, new MemoryPresignatureStore()]))

export const presign = (
  shares: EcdsaKeyShare[],
  stores: ReadonlyMap<string, PresignatureStore>,
  path: number[],
  relay: Relay = honestRelay,
): Promise<string> => presignAll(engine, shares, stores, path, relay)

export async function sign(
  shares: EcdsaKeyShare[],
  stores: Map<string, PresignatureStore>,
  id: string,
  hash: Uint8Array,
  relay: Relay = honestRelay,
): Promise<EcdsaSignature> {
  const results = await runProtocol(
    () => Promise.all(shares.map((s) => engine.sign(s, stores.get(s.self) as PresignatureStore, id, hash))),
    relay,
  )
  return [...results.values()][0] as EcdsaSignature
}

/** The EVM address of the child key, computed watch-only with @scure/bip32 from the set's public key and chain code. */
export function derivedAddress(share: EcdsaKeyShare, path: number[]): `0x${string}` {
  const hd = new HDKey({ publicKey: ecdsaPublicKey(share), chainCode: ecdsaChainCode(share) })
  const child = hd.derive(`m/${path.join('/')}`)
  const uncompressed = secp256k1.Point.fromBytes(child.publicKey as Uint8Array).toBytes(false)
  return publicKeyToAddress(`0x${Buffer.from(uncompressed).toString('hex')}`)
}
