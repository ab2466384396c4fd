import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { MpcError, type PresignatureStore } from '../../src/mpc/index.js'

/**
 * A durable `PresignatureStore` for the crash tests: one file per pre-signature, and a `.used` marker that is
 * on disk (written, fsynced, renamed into place, directory fsynced) before `take` returns the state. A process
 * killed at any point after `take` therefore finds the marker when it restarts and refuses the id. Test code:
 * a daemon seals the state at rest and keeps the store in its database.
 */
export class FilePresignatureStore implements PresignatureStore {
  private readonly directory: string

  constructor(directory: string) {
    this.directory = directory
    mkdirSync(directory, { recursive: true })
  }

  put(id: string, state: Uint8Array): Promise<void> {
    if (existsSync(this.waiting(id)) || existsSync(this.used(id)))
      return Promise.reject(new MpcError('CS_MPC_PRESIGNATURE_USED', `pre-signature ${id} already exists`))
    this.writeDurably(this.waiting(id), state)
    return Promise.resolve()
  }

  take(id: string): Promise<Uint8Array | undefined> {
    if (existsSync(this.used(id)) || !existsSync(this.waiting(id))) return Promise.resolve(undefined)
    const state = new Uint8Array(readFileSync(this.waiting(id)))
    this.writeDurably(this.used(id), new Uint8Array(0)) // the single-use mark, durable before anything else
    unlinkSync(this.waiting(id))
    this.syncDirectory()
    return Promise.resolve(state)
  }

  private waiting(id: string): string {
    return join(this.directory, `${assertId(id)}.presignature`)
  }

  private used(id: string): string {
    return join(this.directory, `${assertId(id)}.used`)
  }

  private writeDurably(path: string, bytes: Uint8Array): void {
    const temporary = `${path}.tmp`
    const fd = openSync(temporary, 'w', 0o600)
    try {
      writeFileSync(fd, bytes)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(temporary, path)
    this.syncDirectory()
  }

  /** A rename is durable only once the directory entry is. */
  private syncDirectory(): void {
    const fd = openSync(this.directory, 'r')
    try {
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  }
}

function assertId(id: string): string {
  if (!/^[0-9a-f]{64}$/.test(id))
    throw new MpcError('CS_MPC_BAD_INPUT', `pre-signature id ${id} is not 64 hex digits`)
  return id
}
