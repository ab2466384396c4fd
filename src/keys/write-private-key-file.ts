import { randomBytes } from 'node:crypto'
import { link, open, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { errnoCode } from '../core/index.js'
import { FileExists } from './errors.js'

export interface WriteFileOptions {
  /** Replace an existing file. Without it an existing file is an error, never silently overwritten. */
  readonly force?: boolean
}

const PRIVATE_MODE = 0o600
const PUBLIC_MODE = 0o644

/**
 * Writes a new file with `mode` set at creation, so the content is never readable under a wider mode, not
 * even for an instant. The content goes to a temporary sibling first and is then linked (no overwrite) or
 * renamed (force) into place: a crash never leaves a half-written key, and a replaced file takes the new
 * mode rather than keeping the old one.
 */
async function writeNewFile(
  path: string,
  content: string,
  mode: number,
  options: WriteFileOptions,
): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  const handle = await open(temporary, 'wx', mode)
  try {
    await handle.chmod(mode) // the umask may have narrowed `mode`; never widened it, but be exact
    await handle.writeFile(content)
    await handle.sync()
  } finally {
    await handle.close()
  }
  try {
    if (options.force === true) await rename(temporary, path)
    else await link(temporary, path)
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') throw new FileExists(path)
    throw error
  } finally {
    await unlink(temporary).catch(() => undefined)
  }
}

/** Writes a private key file with mode 0600; refuses to overwrite an existing file unless `force`. */
export async function writePrivateKeyFile(
  path: string,
  pem: string,
  options: WriteFileOptions = {},
): Promise<void> {
  await writeNewFile(path, pem, PRIVATE_MODE, options)
}

/** Writes a public file (CSR, public key) with mode 0644, with the same no-overwrite rule. */
export async function writePublicFile(
  path: string,
  content: string,
  options: WriteFileOptions = {},
): Promise<void> {
  await writeNewFile(path, content, PUBLIC_MODE, options)
}
