import { randomBytes } from 'node:crypto'
import { link, open, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { errnoCode } from './errno.js'

/** Secrets (keys, tokens, key shares, sealed material) are written readable by their owner only. */
const PRIVATE_MODE = 0o600

export interface AtomicWriteOptions {
  /** Replace an existing file. Without it an existing file is kept and the write answers `false`. */
  readonly replace: boolean
  /** The file's mode, set when it is created; 0600 unless given (0644 for public files only). */
  readonly mode?: number
}

/**
 * Writes `content` to `path` so that after a crash the file holds either nothing (or its old content) or all
 * of the new, and so that it is never readable under a wider mode, not even for an instant: a temporary
 * sibling with a random name is created exclusively with `mode`, written and fsynced, then linked into place
 * (`replace: false`, which never overwrites: `false` is returned when a file exists, and nothing changes) or
 * renamed over the old file (`replace: true`, which also gives it the new mode), and the directory is fsynced
 * so that the new entry survives a power cut too. The temporary file never outlives the call.
 */
export async function writeFileAtomically(
  path: string,
  content: string | Uint8Array,
  options: AtomicWriteOptions,
): Promise<boolean> {
  const mode = options.mode ?? PRIVATE_MODE
  const directory = dirname(path)
  const temporary = join(directory, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  const handle = await open(temporary, 'wx', mode)
  try {
    try {
      await handle.chmod(mode) // the umask may have narrowed the mode (never widened it): be exact
      await handle.writeFile(content)
      await handle.sync()
    } finally {
      await handle.close()
    }
    if (options.replace) await rename(temporary, path)
    else await link(temporary, path)
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return false
    throw error
  } finally {
    await unlink(temporary).catch(() => undefined) // gone already after a rename
  }
  await syncDirectory(directory)
  return true
}

/** A new, renamed or removed directory entry is durable only once its directory is fsynced. */
export async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
