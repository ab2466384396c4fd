import { randomBytes } from 'node:crypto'
import { link, open, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { errnoCode } from '../core/index.js'

const PRIVATE_MODE = 0o600

/**
 * Writes `bytes` to `path` with mode 0600 so that after a crash the file holds either nothing (or its old
 * content) or all of the new: a temporary sibling created 0600 (never readable under a wider mode, not even
 * for an instant), written and fsynced, then linked into place (`replace: false`: an existing file is kept
 * and `false` returned) or renamed over it (`replace: true`), then the directory fsynced so the new entry
 * survives a power cut too.
 */
export async function writeFileAtomically(
  path: string,
  bytes: Uint8Array,
  options: { readonly replace: boolean },
): Promise<boolean> {
  const directory = dirname(path)
  const temporary = join(directory, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  const handle = await open(temporary, 'wx', PRIVATE_MODE)
  try {
    try {
      await handle.chmod(PRIVATE_MODE) // the umask may have narrowed the mode; be exact
      await handle.writeFile(bytes)
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

async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
