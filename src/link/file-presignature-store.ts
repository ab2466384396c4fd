import { existsSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { syncDirectory, writeFileAtomically } from '../core/index.js'
import { MpcError, type PresignatureStore } from '../mpc/index.js'

/**
 * The durable `PresignatureStore` of a signing party: one file per pre-signature (mode 0600), and a `.used`
 * marker that is on disk (core's atomic write: written, fsynced, linked into place, directory fsynced) before
 * `take` returns the state. A process killed at any point after `take` therefore finds the marker when it restarts and refuses
 * the id, and `put` refuses an id it ever held. The state is secret and kept in clear for now: sealing at
 * rest comes from src/seal.
 */
export class FilePresignatureStore implements PresignatureStore {
  private readonly directory: string

  constructor(directory: string) {
    this.directory = directory
    mkdirSync(directory, { recursive: true, mode: 0o700 })
  }

  async put(id: string, state: Uint8Array): Promise<void> {
    const held = existsSync(this.waiting(id)) || existsSync(this.used(id))
    // Created exclusively: of two puts of one id, the second is refused too.
    if (held || !(await writeFileAtomically(this.waiting(id), state, { replace: false })))
      throw new MpcError('CS_MPC_PRESIGNATURE_USED', `pre-signature ${id} already exists`)
  }

  async take(id: string): Promise<Uint8Array | undefined> {
    if (existsSync(this.used(id)) || !existsSync(this.waiting(id))) return undefined
    const state = new Uint8Array(readFileSync(this.waiting(id)))
    // The single-use mark, durable before anything else and created exclusively: of two takes of one id, one
    // only gets the state.
    if (!(await writeFileAtomically(this.used(id), new Uint8Array(0), { replace: false }))) return undefined
    unlinkSync(this.waiting(id))
    await syncDirectory(this.directory)
    return state
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
