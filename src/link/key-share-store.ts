import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describeFileError, errnoCode, writeFileAtomically } from '../core/index.js'
import { decode, encode, type EcdsaKeyShare, type EddsaKeyShare } from '../mpc/index.js'
import type { SigningAlgorithm } from '../protocol/index.js'
import { LinkError } from './errors.js'

export type KeyShare = EcdsaKeyShare | EddsaKeyShare

const ALGORITHM_OF_SHARE = {
  'ecdsa-secp256k1': 'MPC_ECDSA_SECP256K1',
  'eddsa-ed25519': 'MPC_EDDSA_ED25519',
} as const satisfies Record<KeyShare['algorithm'], SigningAlgorithm>

export const algorithmOf = (share: KeyShare): SigningAlgorithm => ALGORITHM_OF_SHARE[share.algorithm]

/**
 * Where a party keeps its key shares: one per algorithm and key set. A set is named by its customer holder
 * (every set is {cloud1, cloud2, customer}), so a cloud co-signer holds one share per customer co-signer.
 */
export interface KeyShareStore {
  /** Stores (or, after a refresh, replaces) this party's share of the set `share.holders`. */
  put(share: KeyShare): Promise<void>
  /** This party's share of the set whose customer holder is `customer`; undefined when it holds none. */
  get(algorithm: SigningAlgorithm, customer: string): Promise<KeyShare | undefined>
}

/**
 * The development store: one file per party, algorithm and set in a directory of the party's own, written
 * atomically (write, fsync, rename, directory fsync), mode 0600, encoded with src/mpc's codec. Shares are
 * secret and kept in clear for now: sealing at rest comes from src/seal.
 */
export class FileKeyShareStore implements KeyShareStore {
  private readonly directory: string
  private readonly self: string

  constructor(directory: string, self: string) {
    this.directory = directory
    this.self = self
    mkdirSync(directory, { recursive: true, mode: 0o700 })
  }

  async put(share: KeyShare): Promise<void> {
    if (share.self !== this.self)
      throw new LinkError('CS_LINK_KEY_SHARE', `a share of ${share.self} cannot be stored as ${this.self}'s`)
    await writeFileAtomically(this.file(algorithmOf(share), share.holders[2]), encode(share), {
      replace: true,
    })
  }

  get(algorithm: SigningAlgorithm, customer: string): Promise<KeyShare | undefined> {
    const file = this.file(algorithm, customer)
    if (!existsSync(file)) return Promise.resolve(undefined)
    try {
      const share = decode(readFileSync(file)) as KeyShare
      if (share.self !== this.self || algorithmOf(share) !== algorithm || share.holders[2] !== customer)
        throw new Error(`it holds another share (${share.self}'s of [${share.holders.join(', ')}])`)
      return Promise.resolve(share)
    } catch (error) {
      return Promise.reject(
        new LinkError('CS_LINK_KEY_SHARE', `key share ${file} is unreadable: ${describe(error)}`, {
          cause: error,
        }),
      )
    }
  }

  /** Party names are free text: base64url keeps any of them a single, safe file name. */
  private file(algorithm: SigningAlgorithm, customer: string): string {
    const name = (text: string) => Buffer.from(text).toString('base64url')
    return join(this.directory, `${name(this.self)}.${name(customer)}.${algorithm}.share`)
  }
}

function describe(error: unknown): string {
  if (errnoCode(error) !== undefined) return describeFileError(error)
  return error instanceof Error ? error.message : String(error)
}
