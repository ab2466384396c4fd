import { writeFileAtomically } from '../core/index.js'
import { FileExists } from './errors.js'

export interface WriteFileOptions {
  /** Replace an existing file. Without it an existing file is an error, never silently overwritten. */
  readonly force?: boolean
}

const PRIVATE_MODE = 0o600
const PUBLIC_MODE = 0o644

/**
 * Writes a file with core's atomic write: `mode` set at creation, so the content is never readable under a
 * wider mode, a crash never leaves a half-written key, and a replaced file (`force`) takes the new mode
 * rather than keeping the old one. Without `force` an existing file is `FileExists`.
 */
async function writeNewFile(
  path: string,
  content: string,
  mode: number,
  options: WriteFileOptions,
): Promise<void> {
  if (!(await writeFileAtomically(path, content, { mode, replace: options.force === true })))
    throw new FileExists(path)
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
