import { decode, encode, MpcError, type PresignatureStore } from '../mpc/index.js'
import { algorithmOf, type KeyShare, type KeyShareStore } from '../link/index.js'
import type { SigningAlgorithm } from '../protocol/index.js'
import type { Sealer } from '../seal/index.js'
import type { CosignerStore } from '../storage/index.js'

/** What the co-signer keeps secret; each kind is a table of the sealed store. */
export type SecretKind =
  'party-key' | 'refresh-token' | 'callback-key' | 'config-key' | 'key-share' | 'presignature'

/** Every record version is 1: a record is replaced whole (a new share after a refresh), never edited. */
const VERSION = 1

/**
 * The co-signer's secrets, sealed (src/seal: AES-256-GCM under the keyring's data key, bound to kind, id and
 * version) before they reach the database, opened only in memory. Ids start with the party (`<party>/…`) so
 * that unpairing removes every secret of that API user.
 */
export class CosignerSecrets {
  readonly #store: CosignerStore
  readonly #sealer: Sealer

  constructor(store: CosignerStore, sealer: Sealer) {
    this.#store = store
    this.#sealer = sealer
  }

  sealed(kind: SecretKind, id: string, plaintext: Uint8Array) {
    return { kind, id, sealed: this.#sealer.seal({ table: kind, id, version: VERSION }, plaintext) }
  }

  put(kind: SecretKind, id: string, plaintext: Uint8Array): Promise<void> {
    return this.#store.putSecret(this.sealed(kind, id, plaintext))
  }

  async get(kind: SecretKind, id: string): Promise<Uint8Array | undefined> {
    const sealed = await this.#store.getSecret(kind, id)
    return sealed === undefined ? undefined : this.#sealer.open({ table: kind, id, version: VERSION }, sealed)
  }

  /** Single use: marked used durably before it is opened and returned. */
  async take(kind: SecretKind, id: string): Promise<Uint8Array | undefined> {
    const sealed = await this.#store.takeSecret(kind, id)
    return sealed === undefined ? undefined : this.#sealer.open({ table: kind, id, version: VERSION }, sealed)
  }

  keyShares(party: string): KeyShareStore {
    const id = (algorithm: SigningAlgorithm, customer: string) => `${party}/${algorithm}/${customer}`
    return {
      put: (share: KeyShare) =>
        this.put('key-share', id(algorithmOf(share), share.holders[2]), encode(share)),
      get: async (algorithm, customer) => {
        const bytes = await this.get('key-share', id(algorithm, customer))
        return bytes === undefined ? undefined : (decode(bytes) as KeyShare)
      },
    }
  }

  presignatures(party: string): PresignatureStore {
    const id = (presignature: string) => `${party}/${presignature}`
    return {
      put: async (presignature, state) => {
        if (await this.#store.hasSecret('presignature', id(presignature)))
          throw new MpcError('CS_MPC_PRESIGNATURE_USED', `pre-signature ${presignature} already exists`)
        await this.put('presignature', id(presignature), state)
      },
      take: (presignature) => this.take('presignature', id(presignature)),
    }
  }
}
