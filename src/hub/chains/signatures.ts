import { ed25519 } from '@noble/curves/ed25519.js'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { equalBytes } from '@noble/curves/utils.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { addr } from 'micro-eth-signer'
import type { SigningAlgorithm } from './assets.js'
import { ChainError } from './errors.js'

/**
 * A signature as the threshold engines return it: 64 bytes, r ‖ s (ECDSA, big-endian) or R ‖ S (Ed25519),
 * and for ECDSA the recovery id (y-parity) 0 or 1. `src/mpc`'s `EcdsaSignature` is one as it stands.
 */
export interface RawSignature {
  readonly compact: Uint8Array
  readonly recovery?: number
}

/** `SignedMessage` of the API (hub-api.md §5.9), one per signed RAW/TYPED message. */
export interface SignedMessage {
  readonly content: string
  readonly algorithm: SigningAlgorithm
  readonly derivationPath: number[]
  readonly signature: { readonly fullSig: string; readonly r: string; readonly s: string; readonly v: number }
  readonly publicKey: string
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/

/**
 * The bytes a party signs for `content` (hex without 0x, as on the wire): ECDSA signs a 32-byte digest as
 * given, never hashing it again (hub-api.md §5.1.2); Ed25519 signs the content bytes themselves.
 */
export function parseSignedContent(algorithm: SigningAlgorithm, content: string): Uint8Array {
  if (!HEX.test(content))
    throw new ChainError('CS_CHAIN_CONTENT_INVALID', 'content must be hexadecimal bytes without 0x', {
      field: 'content',
    })
  const bytes = hexToBytes(content)
  if (algorithm === 'MPC_ECDSA_SECP256K1' && bytes.length !== 32)
    throw new ChainError(
      'CS_CHAIN_CONTENT_INVALID',
      `content for ${algorithm} must be a 32-byte digest (64 hex digits); it has ${bytes.length} bytes`,
      { field: 'content' },
    )
  return bytes
}

/**
 * Whether `signature` is a valid signature of `content` by `publicKey`. ECDSA: low-S only, and the recovery
 * id must recover `publicKey` (an Ethereum signature is useless otherwise). Ed25519: RFC 8032 strict
 * (canonical encodings, no ZIP-215 leniency). Never throws: anything malformed is `false`.
 */
export function verifySignature(
  algorithm: SigningAlgorithm,
  publicKey: Uint8Array,
  content: string,
  signature: RawSignature,
): boolean {
  try {
    const message = parseSignedContent(algorithm, content)
    return algorithm === 'MPC_ECDSA_SECP256K1'
      ? verifyEcdsa(publicKey, message, signature)
      : verifyEddsa(publicKey, message, signature)
  } catch {
    return false
  }
}

function verifyEcdsa(publicKey: Uint8Array, digest: Uint8Array, signature: RawSignature): boolean {
  const { compact, recovery } = signature
  if (compact.length !== 64 || (recovery !== 0 && recovery !== 1)) return false
  if (!secp256k1.verify(compact, digest, publicKey, { prehash: false, lowS: true })) return false
  const recovered = secp256k1.Signature.fromBytes(compact).addRecoveryBit(recovery).recoverPublicKey(digest)
  return equalBytes(recovered.toBytes(true), secp256k1.Point.fromBytes(publicKey).toBytes(true))
}

function verifyEddsa(publicKey: Uint8Array, message: Uint8Array, signature: RawSignature): boolean {
  if (signature.compact.length !== 64 || (signature.recovery ?? 0) !== 0) return false
  return ed25519.verify(signature.compact, message, publicKey, { zip215: false })
}

export interface SignedMessageInput {
  /** The content as requested (echoed unchanged). */
  readonly content: string
  readonly algorithm: SigningAlgorithm
  /** The derivation path actually used. */
  readonly path: readonly number[]
  readonly signature: RawSignature
  /** The derived public key that signed (secp256k1 compressed or not; Ed25519 32 bytes). */
  readonly publicKey: Uint8Array
}

/**
 * The wire `SignedMessage`: r, s and fullSig = r ‖ s as lowercase hex without 0x, v the recovery id (0 for
 * Ed25519), publicKey compressed (33 bytes) for ECDSA. Refuses a signature that does not verify, so no
 * invalid signature ever reaches a client.
 */
export function signedMessage(input: SignedMessageInput): SignedMessage {
  const { content, algorithm, signature, publicKey } = input
  if (!verifySignature(algorithm, publicKey, content, signature))
    throw new ChainError(
      'CS_CHAIN_SIGNATURE_INVALID',
      `the ${algorithm} signature does not verify for the content and the key of [${input.path.join(', ')}]`,
    )
  const fullSig = bytesToHex(signature.compact)
  return {
    content,
    algorithm,
    derivationPath: [...input.path],
    signature: { fullSig, r: fullSig.slice(0, 64), s: fullSig.slice(64), v: signature.recovery ?? 0 },
    publicKey: bytesToHex(encodePublicKey(algorithm, publicKey, true)),
  }
}

/** A public key in the API's encoding: secp256k1 compressed (33 bytes) or not (65); Ed25519 as is. */
export function encodePublicKey(
  algorithm: SigningAlgorithm,
  publicKey: Uint8Array,
  compressed: boolean,
): Uint8Array {
  try {
    return algorithm === 'MPC_ECDSA_SECP256K1'
      ? secp256k1.Point.fromBytes(publicKey).toBytes(compressed)
      : ed25519.Point.fromBytes(publicKey).toBytes()
  } catch (cause) {
    throw new ChainError('CS_CHAIN_KEY_INVALID', `not a ${algorithm} public key`, { cause })
  }
}

/** The EVM address that signed the 32-byte `digest` (hex): what an Ethereum node would take as the sender. */
export function recoverEvmAddress(digest: string, signature: RawSignature): string {
  const message = parseSignedContent('MPC_ECDSA_SECP256K1', digest)
  const { compact, recovery } = signature
  if (compact.length !== 64 || (recovery !== 0 && recovery !== 1))
    throw new ChainError(
      'CS_CHAIN_SIGNATURE_INVALID',
      'an ECDSA signature is 64 bytes with recovery id 0 or 1',
    )
  let parsed
  try {
    parsed = secp256k1.Signature.fromBytes(compact)
  } catch (cause) {
    throw new ChainError('CS_CHAIN_SIGNATURE_INVALID', 'r or s is outside the curve order', { cause })
  }
  // EIP-2: a high-S signature is invalid on Ethereum, whatever it recovers to.
  if (parsed.hasHighS()) throw new ChainError('CS_CHAIN_SIGNATURE_INVALID', 'the signature is high-S (EIP-2)')
  return addr.fromPublicKey(parsed.addRecoveryBit(recovery).recoverPublicKey(message).toBytes(false))
}
