import { createHmac, randomFillSync } from 'node:crypto'
import { open } from 'node:fs/promises'
import { describeFileError, writeFileAtomically } from '../core/index.js'
import { SealError } from './errors.js'
import { KEK_BYTES, takeBytes, unwrapKey, wrapKey } from './key-wrap.js'
import type { KeyEncryptionProvider } from './provider.js'

export interface FileProviderOptions {
  /** The KEK file: exactly 32 random bytes, mode 0600. */
  readonly path: string
  /** Create a new KEK file at `path` (refused if one exists) instead of reading one. */
  readonly create?: boolean
}

/**
 * The development provider: the KEK is 32 bytes in a file beside (or away from) the store. It protects a copy
 * of the store only if the KEK file does not travel with it; see docs/sealing.md.
 */
export async function openFileProvider(options: FileProviderOptions): Promise<KeyEncryptionProvider> {
  const kek = options.create === true ? await createKekFile(options.path) : await readKekFile(options.path)
  const keyId = `file:${fingerprint(kek)}`
  let closed = false
  const live = (): Uint8Array => {
    if (closed) throw new SealError('CS_SEAL_CLOSED', `the file KEK provider ${keyId} is closed`)
    return kek
  }
  return {
    kind: 'file',
    keyId,
    wrap: async (dataKey) => wrapKey(live(), dataKey),
    unwrap: async (wrapped) => unwrapKey(live(), wrapped, keyId),
    close: async () => {
      closed = true
      kek.fill(0)
    },
  }
}

/**
 * A name for the KEK that reveals nothing about it (an HMAC of a constant under the KEK, as a key check value
 * is), so an operator can tell two KEK files apart without either leaving its file.
 */
function fingerprint(kek: Uint8Array): string {
  return createHmac('sha256', kek).update('countersign kek fingerprint').digest('hex').slice(0, 16)
}

async function createKekFile(path: string): Promise<Uint8Array> {
  const kek = randomFillSync(new Uint8Array(KEK_BYTES))
  const written = await writeFileAtomically(path, kek, { replace: false }).catch((error: unknown) => {
    throw new SealError('CS_SEAL_KEK_FILE', `cannot write KEK file ${path}: ${describeFileError(error)}`)
  })
  if (!written)
    throw new SealError(
      'CS_SEAL_KEK_FILE',
      `KEK file ${path} already exists; refusing to replace it (every keyring it wraps would become unreadable): open it instead of creating one`,
    )
  return kek
}

/** Reads the KEK through one open handle, so the mode checked is the mode of the very file read. */
async function readKekFile(path: string): Promise<Uint8Array> {
  const handle = await open(path, 'r').catch((error: unknown) => {
    throw new SealError('CS_SEAL_KEK_FILE', `cannot read KEK file ${path}: ${describeFileError(error)}`)
  })
  try {
    const stat = await handle.stat()
    if (!stat.isFile()) throw new SealError('CS_SEAL_KEK_FILE', `KEK file ${path} is not a regular file`)
    const mode = stat.mode & 0o777
    if ((mode & 0o077) !== 0)
      throw new SealError(
        'CS_SEAL_KEK_FILE',
        `KEK file ${path} has mode 0${mode.toString(8)}: group or others may access it; run chmod 600 ${path} (and consider the KEK exposed if others could read it)`,
      )
    const kek = takeBytes([await handle.readFile()])
    if (kek.length !== KEK_BYTES) {
      kek.fill(0)
      throw new SealError(
        'CS_SEAL_KEK_FILE',
        `KEK file ${path} holds ${kek.length} bytes, not ${KEK_BYTES}: it is not a KEK file (create one with create: true)`,
      )
    }
    return kek
  } finally {
    await handle.close()
  }
}
