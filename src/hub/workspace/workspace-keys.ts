import { readWorkspaceKeys, type StorageDatabase } from '../../storage/index.js'
import type { WorkspaceRoots } from '../chains/index.js'

/**
 * The public side of the workspace's threshold keys, as recorded when the first co-signer's key generation
 * finished. Cached once both exist (they never change); `undefined` until then.
 */
export class WorkspaceKeys {
  private readonly db: StorageDatabase
  private cached: WorkspaceRoots | undefined

  constructor(db: StorageDatabase) {
    this.db = db
  }

  async roots(): Promise<WorkspaceRoots | undefined> {
    if (this.cached !== undefined) return this.cached
    const keys = await this.db.read(readWorkspaceKeys)
    const root = (algorithm: string) => {
      const key = keys.find((candidate) => candidate.algorithm === algorithm)
      return key === undefined
        ? undefined
        : { publicKey: Buffer.from(key.publicKey, 'hex'), chainCode: Buffer.from(key.chainCode, 'hex') }
    }
    const ecdsa = root('MPC_ECDSA_SECP256K1')
    const eddsa = root('MPC_EDDSA_ED25519')
    if (ecdsa === undefined || eddsa === undefined) return undefined
    this.cached = { ecdsa, eddsa }
    return this.cached
  }
}
