import { existsSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { MpcError, type PresignatureStore } from '../mpc/index.js'
import { syncDirectory, writeFileDurably } from './durable-file.js'

/**
 * The durable `PresignatureStore` of a signing party: one file per pre-signature (mode 0600), and a `.used`
 * marker that is on disk (written, fsynced, renamed into place, directory fsynced) before `take` returns the
 * state. A process killed at any point after `take` therefore finds the marker when it restarts and refuses
 * the id, and `put` refuses an id it ever held. The state is secret and kept in clear for now: sealing at
 * rest comes from src/seal.
 */
export class FilePresignatureStore implements PresignatureStore {
  private readonly directory: string

  constructor(directory: string) {
    this.directory = directory
    mkdirSync(directory, { recursive: true, mode: 0o700 })
  }

  put(id: string, state: Uint8Array): Promise<void> {
    if (existsSync(this.waiting(id)) || existsSync(this.used(id)))
      return Promise.reject(new MpcError('CS_MPC_PRESIGNATURE_USED', `pre-signature ${id} already exists`))
    writeFileDurably(this.waiting(id), state)
    return Promise.resolve()
  }

  take(id: string): Promise<Uint8Array | undefined> {
    if (existsSync(this.used(id)) || !existsSync(this.waiting(id))) return Promise.resolve(undefined)
    const state = new Uint8Array(readFileSync(this.waiting(id)))
    writeFileDurably(this.used(id), new Uint8Array(0)) // the single-use mark, durable before anything else
    unlinkSync(this.waiting(id))
    syncDirectory(this.directory)
    return Promise.resolve(state)
  }

  private waiting(id: string): string {
    return join(this.directory, `${assertId(id)}.presignature`)
  }

  private used(id: string): string {
    return join(this.directory, `${assertId(id)}.used`)
  }
}

function assertId(id: string): string {
  if (!/^[0-9a-f]{64}$/.test(id))
    throw new MpcError('CS_MPC_BAD_INPUT', `pre-signature id ${id} is not 64 hex digits`)
  return id
}
