import { describe, expect, it } from 'vitest'
import { assetRegistry, DEFAULT_EVM_CHAIN_ID, listAssetsResponse, supportedAssetsResponse } from './index.js'

const registry = assetRegistry()

describe('asset registry', () => {
  it('serves ETH_TEST6, BTC_TEST and SOL_TEST with their decimals, algorithms, coin type 1 and models', () => {
    const facts = [...registry.values()].map((a) => [a.id, a.decimals, a.algorithm, a.coinType, a.utxo])
    expect(facts).toEqual([
      ['ETH_TEST6', 18, 'MPC_ECDSA_SECP256K1', 1, false],
      ['BTC_TEST', 8, 'MPC_ECDSA_SECP256K1', 1, true],
      ['SOL_TEST', 9, 'MPC_EDDSA_ED25519', 1, false],
    ])
  })

  it('signs ETH_TEST6 for Hoodi unless configured otherwise', () => {
    expect(registry.get('ETH_TEST6')).toMatchObject({ chain: 'evm', chainId: DEFAULT_EVM_CHAIN_ID })
    expect(DEFAULT_EVM_CHAIN_ID).toBe(560048n)
    expect(assetRegistry({ evmChainId: 11155111n }).get('ETH_TEST6')).toMatchObject({ chainId: 11155111n })
  })

  it('answers GET /v1/supported_assets with a bare array of AssetTypeResponse', () => {
    expect(supportedAssetsResponse(registry)).toContainEqual({
      id: 'BTC_TEST',
      name: 'Bitcoin Test',
      type: 'BASE_ASSET',
      contractAddress: '',
      nativeAsset: 'BTC_TEST',
      decimals: 8,
    })
    expect(supportedAssetsResponse(registry)).toHaveLength(3)
  })

  it('answers GET /v1/assets with { data, next: null }, every asset with its required fields', () => {
    const { data, next } = listAssetsResponse(registry)
    expect(next).toBeNull()
    expect(data.map((a) => a.legacyId)).toEqual(['ETH_TEST6', 'BTC_TEST', 'SOL_TEST'])
    for (const asset of data) {
      expect(asset.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      expect(asset).toMatchObject({
        assetClass: 'NATIVE',
        metadata: { scope: 'GLOBAL', verified: true, deprecated: false },
      })
      expect(asset.displayName).not.toBe('')
      expect(asset.displaySymbol).not.toBe('')
    }
    expect(new Set(data.map((a) => a.id)).size).toBe(3)
  })

  it('filters GET /v1/assets by ids (UUID or legacy id), symbol, class, scope, deprecation and blockchain', () => {
    const ids = (query: Parameters<typeof listAssetsResponse>[1]) =>
      listAssetsResponse(registry, query).data.map((a) => a.legacyId)
    const sol = registry.get('SOL_TEST')!
    expect(ids({ ids: [sol.uuid, 'BTC_TEST'] })).toEqual(['BTC_TEST', 'SOL_TEST'])
    expect(ids({ symbol: 'ETH' })).toEqual(['ETH_TEST6'])
    expect(ids({ assetClass: 'FT' })).toEqual([])
    expect(ids({ scope: 'LOCAL' })).toEqual([])
    expect(ids({ deprecated: true })).toEqual([])
    expect(ids({ deprecated: false })).toHaveLength(3)
    expect(ids({ blockchainId: 'anything' })).toEqual([])
  })
})
