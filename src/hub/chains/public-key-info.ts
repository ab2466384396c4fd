import { bytesToHex } from '@noble/hashes/utils.js'
import type { SigningAlgorithm } from './assets.js'
import { derivePublicKey, type WorkspaceRoots } from './derivation.js'
import { encodePublicKey } from './signatures.js'

/** `PublicKeyInformation` of `GET /v1/vault/public_key_info` (hub-api.md §3.8). */
export interface PublicKeyInformation {
  readonly algorithm: SigningAlgorithm
  readonly derivationPath: number[]
  readonly publicKey: string
}

export interface PublicKeyInfoRequest {
  readonly algorithm: SigningAlgorithm
  readonly path: readonly number[]
  /** secp256k1 only: 33-byte compressed (default, as `signedMessages[].publicKey`) or 65-byte key. */
  readonly compressed?: boolean
}

/** The derived public key of `path`, as hex, so a client can verify RAW signatures itself. */
export function publicKeyInfo(roots: WorkspaceRoots, request: PublicKeyInfoRequest): PublicKeyInformation {
  const publicKey = derivePublicKey(request.algorithm, roots, request.path)
  return {
    algorithm: request.algorithm,
    derivationPath: [...request.path],
    publicKey: bytesToHex(encodePublicKey(request.algorithm, publicKey, request.compressed ?? true)),
  }
}
