import { base58 } from '@scure/base'
import { Address, p2wpkh, TEST_NETWORK } from '@scure/btc-signer'
import { addr } from 'micro-eth-signer'
import type { ChainAsset } from './assets.js'
import { assetPath, derivePublicKey, type WorkspaceRoots } from './derivation.js'
import { ChainError } from './errors.js'

/**
 * The address of a derived public key: EIP-55 checksummed `0x…` (EVM), P2WPKH bech32 `tb1q…` (Bitcoin
 * testnet, compressed key), or the base58 key itself (Solana).
 */
export function addressOf(asset: ChainAsset, publicKey: Uint8Array): string {
  try {
    switch (asset.chain) {
      case 'evm':
        return addr.fromPublicKey(publicKey)
      case 'bitcoin-testnet':
        return p2wpkh(publicKey, TEST_NETWORK).address
      case 'solana':
        if (publicKey.length !== 32) throw new RangeError('an Ed25519 public key is 32 bytes')
        return base58.encode(publicKey)
    }
  } catch (cause) {
    throw new ChainError('CS_CHAIN_KEY_INVALID', `not a public key for a ${asset.id} address`, { cause })
  }
}

/** A destination address checked for `asset`: its canonical spelling, or why it is refused. */
export type AddressCheck =
  { readonly valid: true; readonly address: string } | { readonly valid: false; readonly reason: string }

const EVM_ADDRESS = /^0x[0-9a-fA-F]{40}$/
/** Witness programs a wallet can pay on testnet: P2WPKH, P2WSH (v0, bech32) and P2TR (v1, bech32m). */
const SEGWIT_TYPES = new Set(['wpkh', 'wsh', 'tr'])

/** Checks a one-time destination address; never throws. */
export function validateAddress(asset: ChainAsset, text: string): AddressCheck {
  switch (asset.chain) {
    case 'evm':
      return checkEvm(text)
    case 'bitcoin-testnet':
      return checkBitcoinTestnet(text)
    case 'solana':
      return checkSolana(text)
  }
}

/** `validateAddress` for a field that must hold a valid address: the canonical spelling or a refusal. */
export function requireAddress(asset: ChainAsset, text: string, field: string): string {
  const check = validateAddress(asset, text)
  if (!check.valid) throw new ChainError('CS_CHAIN_ADDRESS_INVALID', `${field}: ${check.reason}`, { field })
  return check.address
}

const refused = (reason: string): AddressCheck => ({ valid: false, reason })

function checkEvm(text: string): AddressCheck {
  if (!EVM_ADDRESS.test(text)) return refused('an EVM address is 0x followed by 40 hexadecimal digits')
  // EIP-55: one case throughout carries no checksum; mixed case must be the checksum exactly.
  if (!addr.isValid(text))
    return refused('the mixed-case EIP-55 checksum does not match: a digit was mistyped')
  return { valid: true, address: addr.addChecksum(text) }
}

function checkBitcoinTestnet(text: string): AddressCheck {
  const lower = text.toLowerCase()
  if (lower.startsWith('bc1')) return refused('a Bitcoin mainnet address: this asset is on testnet (tb1…)')
  if (!lower.startsWith('tb1')) return refused('a Bitcoin testnet segwit address starts with tb1')
  if (text !== lower && text !== text.toUpperCase())
    return refused('a bech32 address is written in one case only')
  let type: string
  try {
    type = Address(TEST_NETWORK).decode(lower).type
  } catch {
    return refused('the bech32 checksum or witness program is invalid')
  }
  if (!SEGWIT_TYPES.has(type)) return refused(`witness program type ${type} cannot receive a payment`)
  return { valid: true, address: lower }
}

function checkSolana(text: string): AddressCheck {
  let bytes: Uint8Array
  try {
    bytes = base58.decode(text)
  } catch {
    return refused('a Solana address is base58 (no 0, O, I or l)')
  }
  if (bytes.length !== 32)
    return refused(`a Solana address is a 32-byte key; this one is ${bytes.length} bytes`)
  return { valid: true, address: text }
}

/** One address of a vault account: where it derives from and the key that signs for it. */
export interface VaultAddress {
  readonly address: string
  readonly path: number[]
  readonly publicKey: Uint8Array
}

/** The address `addressIndex` of `asset` in vault account `vaultAccountId` (index 0: the permanent one). */
export function vaultAddress(
  asset: ChainAsset,
  roots: WorkspaceRoots,
  vaultAccountId: number,
  addressIndex = 0,
): VaultAddress {
  const path = assetPath(asset, vaultAccountId, addressIndex)
  const publicKey = derivePublicKey(asset.algorithm, roots, path)
  return { address: addressOf(asset, publicKey), path, publicKey }
}
