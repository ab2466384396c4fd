/**
 * The assets a hub serves, and the two Fireblocks lists of them (hub-api.md §4). Asset ids are the legacy ids
 * every other endpoint takes as `assetId`; test assets derive under BIP44 coin type 1 (hub-api.md §5.1.2).
 */
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from '../../protocol/index.js'

export { SIGNING_ALGORITHMS, type SigningAlgorithm }

export const isSigningAlgorithm = (value: unknown): value is SigningAlgorithm =>
  SIGNING_ALGORITHMS.includes(value as SigningAlgorithm)

interface AssetCommon {
  /** Legacy id, e.g. `ETH_TEST6`: the `assetId` of every endpoint. */
  readonly id: string
  /** The `id` of `GET /v1/assets` (a UUID there); fixed per asset so clients may keep it. */
  readonly uuid: string
  readonly name: string
  readonly symbol: string
  readonly decimals: number
  readonly coinType: number
  /** UTXO assets get new deposit addresses (hub-api.md §3.7); account-based ones have exactly one. */
  readonly utxo: boolean
  /** `VaultWalletAddress.addressFormat` of its addresses. */
  readonly addressFormat: 'BASE' | 'SEGWIT'
}

export type ChainAsset =
  | (AssetCommon & {
      readonly chain: 'evm'
      readonly algorithm: 'MPC_ECDSA_SECP256K1'
      readonly chainId: bigint
    })
  | (AssetCommon & { readonly chain: 'bitcoin-testnet'; readonly algorithm: 'MPC_ECDSA_SECP256K1' })
  | (AssetCommon & { readonly chain: 'solana'; readonly algorithm: 'MPC_EDDSA_ED25519' })

/** Assets by legacy id, in the order the lists show them. */
export type AssetRegistry = ReadonlyMap<string, ChainAsset>

/**
 * Hoodi (560048). On Fireblocks `ETH_TEST6` was Holesky (17000), which the Ethereum Foundation shut down in
 * September 2025; Hoodi is its successor and the public testnet with the longest announced support
 * (September 2028; Sepolia's was announced to end in September 2026). Configure `evmChainId` for another
 * chain (Sepolia 11155111, a local devnet such as anvil's 31337): the chain id is signed into every
 * transaction (EIP-155), so a transaction signed for one chain cannot be replayed on another.
 */
export const DEFAULT_EVM_CHAIN_ID = 560048n

export interface AssetRegistryOptions {
  readonly evmChainId?: bigint
}

export function assetRegistry(options: AssetRegistryOptions = {}): AssetRegistry {
  const assets: ChainAsset[] = [
    {
      id: 'ETH_TEST6',
      uuid: '2c16496e-c33d-4a47-878a-b459511275fd',
      name: 'Ethereum Test',
      symbol: 'ETH',
      decimals: 18,
      coinType: 1,
      utxo: false,
      addressFormat: 'BASE',
      chain: 'evm',
      algorithm: 'MPC_ECDSA_SECP256K1',
      chainId: options.evmChainId ?? DEFAULT_EVM_CHAIN_ID,
    },
    {
      id: 'BTC_TEST',
      uuid: 'd0244298-886e-44fa-8d36-a5fe9238e20d',
      name: 'Bitcoin Test',
      symbol: 'BTC',
      decimals: 8,
      coinType: 1,
      utxo: true,
      addressFormat: 'SEGWIT',
      chain: 'bitcoin-testnet',
      algorithm: 'MPC_ECDSA_SECP256K1',
    },
    {
      id: 'SOL_TEST',
      uuid: '5e3d37b5-cbc7-41b0-9052-7a9c5a16c0ad',
      name: 'Solana Test',
      symbol: 'SOL',
      decimals: 9,
      coinType: 1,
      utxo: false,
      addressFormat: 'BASE',
      chain: 'solana',
      algorithm: 'MPC_EDDSA_ED25519',
    },
  ]
  return new Map(assets.map((asset) => [asset.id, asset]))
}

/** `AssetTypeResponse` of `GET /v1/supported_assets` (hub-api.md §4.1). */
export interface SupportedAsset {
  readonly id: string
  readonly name: string
  readonly type: 'BASE_ASSET'
  readonly contractAddress: string
  readonly nativeAsset: string
  readonly decimals: number
}

/** The body of `GET /v1/supported_assets`: a bare array. */
export function supportedAssetsResponse(registry: AssetRegistry): SupportedAsset[] {
  return [...registry.values()].map((asset) => ({
    id: asset.id,
    name: asset.name,
    type: 'BASE_ASSET',
    contractAddress: '',
    nativeAsset: asset.id,
    decimals: asset.decimals,
  }))
}

/** `Asset` of `GET /v1/assets` (hub-api.md §4.2). */
export interface ListedAsset {
  readonly id: string
  readonly legacyId: string
  readonly displayName: string
  readonly displaySymbol: string
  readonly assetClass: 'NATIVE'
  readonly onchain: { readonly symbol: string; readonly name: string; readonly decimals: number }
  readonly metadata: { readonly scope: 'GLOBAL'; readonly verified: true; readonly deprecated: false }
}

/** The query filters of `GET /v1/assets` the hub honours; the others select nothing it lists. */
export interface ListAssetsQuery {
  readonly ids?: readonly string[]
  readonly symbol?: string
  readonly assetClass?: string
  readonly scope?: string
  readonly deprecated?: boolean
  readonly blockchainId?: string
}

/** The body of `GET /v1/assets`: every asset on one page (`next: null`), filtered as the query asks. */
export function listAssetsResponse(
  registry: AssetRegistry,
  query: ListAssetsQuery = {},
): { data: ListedAsset[]; next: null } {
  const data = [...registry.values()].map(listedAsset).filter((asset) => matches(asset, query))
  return { data, next: null }
}

const listedAsset = (asset: ChainAsset): ListedAsset => ({
  id: asset.uuid,
  legacyId: asset.id,
  displayName: asset.name,
  displaySymbol: asset.symbol,
  assetClass: 'NATIVE',
  onchain: { symbol: asset.symbol, name: asset.name, decimals: asset.decimals },
  metadata: { scope: 'GLOBAL', verified: true, deprecated: false },
})

function matches(asset: ListedAsset, query: ListAssetsQuery): boolean {
  // `ids` are the UUIDs of this list; legacy ids are accepted too, as callers mostly hold those.
  if (query.ids !== undefined && !query.ids.some((id) => id === asset.id || id === asset.legacyId))
    return false
  if (query.symbol !== undefined && query.symbol !== asset.displaySymbol) return false
  if (query.assetClass !== undefined && query.assetClass !== asset.assetClass) return false
  if (query.scope !== undefined && query.scope !== asset.metadata.scope) return false
  if (query.deprecated !== undefined && query.deprecated !== asset.metadata.deprecated) return false
  // The hub lists no blockchain objects (GET /v1/blockchains), so no asset belongs to a named one.
  return query.blockchainId === undefined
}
