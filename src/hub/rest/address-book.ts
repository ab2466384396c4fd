/**
 * What the vault routes need to know of chains: the configured assets, and the deposit addresses and
 * public keys derived from the workspace keys. Another part of the hub implements it (BIP44 paths
 * `[44, 1, vaultId, change, index]`, non-hardened); the routes never do chain maths themselves.
 */
import type { SigningAlgorithm } from '../../protocol/index.js'

/** The `addressFormat` values of the SDK's `VaultWalletAddress`. */
export type AddressFormat = 'SEGWIT' | 'LEGACY' | 'BASE' | 'PAYMENT'

export interface AssetInfo {
  /** The Fireblocks legacy id every endpoint takes as `assetId`, e.g. `ETH_TEST`, `BTC_TEST`. */
  readonly id: string
  readonly name: string
  /** Base units per unit, as a power of ten (18 for ether, 8 for bitcoin). */
  readonly decimals: number
  readonly algorithm: SigningAlgorithm
  /** UTXO assets take many deposit addresses per wallet; account-based assets have exactly one. */
  readonly utxo: boolean
  /** The asset that pays this one's fees (itself for a native coin). */
  readonly nativeAsset: string
}

export interface DerivedAddress {
  readonly address: string
  readonly path: readonly number[]
  /** Hex. */
  readonly publicKey: string
  readonly format: AddressFormat
  readonly legacyAddress?: string
}

export interface PublicKeyInfo {
  readonly algorithm: SigningAlgorithm
  readonly derivationPath: readonly number[]
  /** Hex. */
  readonly publicKey: string
}

export interface AddressBook {
  asset(assetId: string): AssetInfo | undefined
  assets(): readonly AssetInfo[]
  /** `undefined` while the workspace has no key for the asset's algorithm (no co-signer paired yet). */
  deriveAddress(
    assetId: string,
    vaultId: number,
    change: number,
    index: number,
  ): Promise<DerivedAddress | undefined>
  /** `undefined` while the workspace has no key for `algorithm`. */
  publicKeyInfo(
    algorithm: SigningAlgorithm,
    path: readonly number[],
    compressed: boolean,
  ): Promise<PublicKeyInfo | undefined>
}
