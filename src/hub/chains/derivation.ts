import { ed25519 } from '@noble/curves/ed25519.js'
import { HDKey } from '@scure/bip32'
import { deriveEddsaPublic } from '../../mpc/index.js'
import type { ChainAsset, SigningAlgorithm } from './assets.js'
import { ChainError } from './errors.js'

/** A root public key and its chain code: what the hub knows of a workspace threshold key. */
export interface RootKey {
  readonly publicKey: Uint8Array
  readonly chainCode: Uint8Array
}

/** The workspace's two threshold keys, public side (docs/mpc.md). */
export interface WorkspaceRoots {
  readonly ecdsa: RootKey
  readonly eddsa: RootKey
}

const HARDENED = 2 ** 31
const BIP44_PURPOSE = 44

const isIndex = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < HARDENED

/**
 * Refuses anything but `[44, coinType, account, change, index]` of non-hardened indices: threshold keys
 * derive only public children, and a shorter path (the root itself among them) is never signed for.
 */
export function assertDerivationPath(
  path: unknown,
  field = 'derivationPath',
): asserts path is readonly number[] {
  const refuse = (why: string) => new ChainError('CS_CHAIN_PATH_INVALID', `${field} ${why}`, { field })
  if (!Array.isArray(path) || path.length !== 5)
    throw refuse('must be five numbers [44, coinType, account, change, index]')
  const indices: unknown[] = Array.from(path)
  if (indices[0] !== BIP44_PURPOSE) throw refuse(`must start with ${BIP44_PURPOSE} (BIP44)`)
  const bad = indices.findIndex((index) => !isIndex(index))
  if (bad !== -1)
    throw refuse(
      `holds ${JSON.stringify(indices[bad]) ?? 'nothing'} at ${bad}: only whole numbers 0 … 2^31 − 1 (non-hardened)`,
    )
}

/** The `derivationPath` query parameter of `GET /v1/vault/public_key_info`: a JSON array such as `[44,1,7,0,0]`. */
export function parseDerivationPath(text: string, field = 'derivationPath'): number[] {
  let path: unknown
  try {
    path = JSON.parse(text)
  } catch {
    throw new ChainError('CS_CHAIN_PATH_INVALID', `${field} is not a JSON array such as [44,1,0,0,0]`, {
      field,
    })
  }
  assertDerivationPath(path, field)
  return [...path]
}

/** The path of a vault account's address of `asset`: `[44, coinType, vaultAccountId, change, index]`. */
export function assetPath(asset: ChainAsset, vaultAccountId: number, addressIndex = 0, change = 0): number[] {
  const path = [BIP44_PURPOSE, asset.coinType, vaultAccountId, change, addressIndex]
  assertDerivationPath(path)
  return path
}

/** Non-hardened BIP32 public derivation (the same child keys DKLs23 derives for its shares). */
export function deriveEcdsaPublic(root: RootKey, path: readonly number[]): RootKey {
  let node: HDKey
  try {
    node = new HDKey({ publicKey: root.publicKey, chainCode: root.chainCode })
  } catch (cause) {
    throw new ChainError(
      'CS_CHAIN_KEY_INVALID',
      'the ECDSA root is not a secp256k1 point and 32-byte chain code',
      {
        cause,
      },
    )
  }
  for (const index of path) {
    if (!isIndex(index))
      throw new ChainError(
        'CS_CHAIN_PATH_INVALID',
        `derivation index ${String(index)}: only non-hardened indices`,
      )
    node = node.deriveChild(index)
  }
  return { publicKey: node.publicKey as Uint8Array, chainCode: node.chainCode as Uint8Array }
}

/** The Ed25519 additive-tweak derivation of `src/mpc` (not SLIP-0010), checked for a valid root first. */
function eddsaChild(root: RootKey, path: readonly number[]): RootKey {
  try {
    ed25519.Point.fromBytes(root.publicKey)
    if (root.chainCode.length !== 32) throw new RangeError('chain code must be 32 bytes')
  } catch (cause) {
    throw new ChainError(
      'CS_CHAIN_KEY_INVALID',
      'the Ed25519 root is not a curve point and 32-byte chain code',
      {
        cause,
      },
    )
  }
  return deriveEddsaPublic(root.publicKey, root.chainCode, path)
}

/**
 * The public key that signs for `path` under `algorithm`: compressed secp256k1 (33 bytes) or Ed25519
 * (32 bytes). The path must be a BIP44 path (`assertDerivationPath`).
 */
export function derivePublicKey(
  algorithm: SigningAlgorithm,
  roots: WorkspaceRoots,
  path: readonly number[],
): Uint8Array {
  assertDerivationPath(path)
  return algorithm === 'MPC_ECDSA_SECP256K1'
    ? deriveEcdsaPublic(roots.ecdsa, path).publicKey
    : eddsaChild(roots.eddsa, path).publicKey
}
