import { MpcError } from './errors.js'
import type { Holders } from './topology.js'

/** The library's own party object (Shamir share in clear, pairwise OT state, chain code): opaque to callers. */
export type DklsParty = Record<string, unknown> & {
  party_index: number
  pk: string
  poly_point: string
  derivation_data: { chain_code: number[] } & Record<string, unknown>
  eth_address: string
}

/** One holder's share of the workspace ECDSA key in one 3-of-3 set. Secret: seal it before storing it. */
export interface EcdsaKeyShare {
  readonly algorithm: 'ecdsa-secp256k1'
  readonly holders: Holders
  readonly self: string
  readonly party: DklsParty
}

export const ecdsaPublicKey = (share: EcdsaKeyShare): Uint8Array =>
  Uint8Array.from(Buffer.from(share.party.pk, 'hex'))
export const ecdsaChainCode = (share: EcdsaKeyShare): Uint8Array =>
  Uint8Array.from(share.party.derivation_data.chain_code)

export function assertDerivationPath(path: readonly number[]): void {
  for (const index of path)
    if (!Number.isInteger(index) || index < 0 || index >= 2 ** 31)
      throw new MpcError(
        'CS_MPC_BAD_INPUT',
        `derivation index ${index} refused: only non-hardened indices 0 … 2^31 − 1`,
      )
}

export const toHex64 = (n: bigint): string => n.toString(16).toUpperCase().padStart(64, '0')
