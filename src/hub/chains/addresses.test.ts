import { secp256k1 } from '@noble/curves/secp256k1.js'
import { ed25519 } from '@noble/curves/ed25519.js'
import { hexToBytes } from '@noble/hashes/utils.js'
import { p2pk, p2tr, p2wpkh, p2wsh, NETWORK, TEST_NETWORK } from '@scure/btc-signer'
import { describe, expect, it } from 'vitest'
import {
  addressOf,
  assetRegistry,
  derivePublicKey,
  requireAddress,
  validateAddress,
  vaultAddress,
} from './index.js'

const registry = assetRegistry()
const ETH = registry.get('ETH_TEST6')!
const BTC = registry.get('BTC_TEST')!
const SOL = registry.get('SOL_TEST')!

/** The public key of secret key 1: the generator G, compressed (BIP173's example key). */
const G = hexToBytes('0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798')

describe('addressOf', () => {
  it('gives the EIP-55 address of a known key (secret 1), from the compressed or full key', () => {
    expect(addressOf(ETH, G)).toBe('0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf')
    expect(addressOf(ETH, secp256k1.Point.fromBytes(G).toBytes(false))).toBe(
      '0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf',
    )
  })

  it('gives the P2WPKH testnet address BIP173 and @scure/btc-signer give for the key', () => {
    expect(addressOf(BTC, G)).toBe('tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx')
    const key = secp256k1.getPublicKey(secp256k1.utils.randomSecretKey())
    expect(addressOf(BTC, key)).toBe(p2wpkh(key, TEST_NETWORK).address)
  })

  it('gives the base58 key as the Solana address', () => {
    expect(addressOf(SOL, new Uint8Array(32))).toBe('11111111111111111111111111111111')
    const key = ed25519.getPublicKey(new Uint8Array(32).fill(7))
    const address = addressOf(SOL, key)
    expect(validateAddress(SOL, address)).toEqual({ valid: true, address })
  })

  it('refuses a key of the wrong kind for the asset', () => {
    for (const [asset, key] of [
      [BTC, secp256k1.Point.fromBytes(G).toBytes(false)],
      [ETH, new Uint8Array(32).fill(1)],
      [SOL, G],
    ] as const)
      expect(() => addressOf(asset, key)).toThrow(expect.objectContaining({ code: 'CS_CHAIN_KEY_INVALID' }))
  })

  it('derives a vault account address from the workspace roots along [44, 1, vault, 0, index]', () => {
    const roots = {
      ecdsa: { publicKey: G, chainCode: new Uint8Array(32).fill(3) },
      eddsa: {
        publicKey: ed25519.getPublicKey(new Uint8Array(32).fill(1)),
        chainCode: new Uint8Array(32).fill(2),
      },
    }
    const eth = vaultAddress(ETH, roots, 7)
    expect(eth.path).toEqual([44, 1, 7, 0, 0])
    expect(eth.address).toBe(addressOf(ETH, derivePublicKey('MPC_ECDSA_SECP256K1', roots, [44, 1, 7, 0, 0])))
    // ETH_TEST6 and BTC_TEST share coin type 1 and the ECDSA key: the same key, two address formats.
    expect(vaultAddress(BTC, roots, 7).publicKey).toEqual(eth.publicKey)
    expect(vaultAddress(BTC, roots, 7, 1).address).not.toBe(vaultAddress(BTC, roots, 7).address)
    expect(vaultAddress(SOL, roots, 7).address).toBe(addressOf(SOL, vaultAddress(SOL, roots, 7).publicKey))
  })
})

describe('validateAddress', () => {
  it('accepts EVM addresses in one case or with a correct checksum, and answers the checksummed form', () => {
    const checksummed = '0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf'
    for (const text of [checksummed, checksummed.toLowerCase(), '0x' + checksummed.slice(2).toUpperCase()])
      expect(validateAddress(ETH, text)).toEqual({ valid: true, address: checksummed })
  })

  it.each([
    ['0x7E5F4552091A69125d5DfCb7b8C2659029395BdF', /EIP-55 checksum does not match/],
    ['7E5F4552091A69125d5DfCb7b8C2659029395Bdf', /0x followed by 40/],
    ['0x7E5F4552091A69125d5DfCb7b8C2659029395Bd', /0x followed by 40/],
    ['0x7E5F4552091A69125d5DfCb7b8C2659029395Bdg', /0x followed by 40/],
  ])('refuses the EVM address %s', (text, reason) => {
    expect(validateAddress(ETH, text)).toEqual({ valid: false, reason: expect.stringMatching(reason) })
  })

  it('accepts testnet segwit v0 and taproot addresses, in lower or upper case', () => {
    const key = secp256k1.getPublicKey(secp256k1.utils.randomSecretKey())
    const addresses = [
      p2wpkh(key, TEST_NETWORK).address,
      p2wsh(p2pk(key), TEST_NETWORK).address,
      p2tr(key.slice(1), undefined, TEST_NETWORK).address,
    ]
    for (const address of addresses) {
      expect(validateAddress(BTC, address)).toEqual({ valid: true, address })
      expect(validateAddress(BTC, address.toUpperCase())).toEqual({ valid: true, address })
    }
  })

  it.each([
    [p2wpkh(G, NETWORK).address, /mainnet/],
    ['tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsy', /checksum/],
    ['tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kXPJZSX', /one case/],
    ['mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn', /starts with tb1/],
    ['', /starts with tb1/],
  ])('refuses the Bitcoin testnet address %s', (text, reason) => {
    expect(validateAddress(BTC, text)).toEqual({ valid: false, reason: expect.stringMatching(reason) })
  })

  it.each([
    ['0OIl1111111111111111111111111111', /base58/],
    ['1111111111111111111111111111111', /32-byte key; this one is 31 bytes/],
    ['', /this one is 0 bytes/],
  ])('refuses the Solana address %j', (text, reason) => {
    expect(validateAddress(SOL, text)).toEqual({ valid: false, reason: expect.stringMatching(reason) })
  })

  it('requireAddress throws the refusal with the field named', () => {
    expect(() => requireAddress(ETH, '0xdead', 'destination address')).toThrow(
      expect.objectContaining({
        code: 'CS_CHAIN_ADDRESS_INVALID',
        field: 'destination address',
        message: expect.stringMatching(/^destination address: an EVM address is 0x/),
      }),
    )
  })
})
