import { readFile } from 'node:fs/promises'
import { z } from 'zod'
import { describeFileError, formatZodIssues, writeFileAtomically } from '../core/index.js'
import { SealError } from './errors.js'

const FORMAT = 'countersign-keyring'
const VERSION = 1

const base64 = z.base64()

/**
 * The keyring file (JSON, mode 0600): the keyring's random id, the provider that wrapped the data key (its
 * kind and KEK id, no secret), the wrapped data key (self-describing: it carries a passphrase's scrypt salt
 * and cost, or the PKCS#11 mechanism) and a key-check value, a record sealed under the data key, so that
 * opening proves the data key right before any record is read.
 */
const KeyringSchema = z.strictObject({
  format: z.literal(FORMAT),
  version: z.literal(VERSION),
  keyId: z.string().regex(/^[0-9a-f]{32}$/),
  provider: z.strictObject({
    kind: z.enum(['file', 'passphrase', 'pkcs11']),
    keyId: z.string().min(1),
  }),
  wrappedDataKey: base64,
  check: base64,
})
export type Keyring = z.infer<typeof KeyringSchema>

export function keyringOf(fields: Omit<Keyring, 'format' | 'version'>): Keyring {
  return { format: FORMAT, version: VERSION, ...fields }
}

export async function readKeyring(path: string): Promise<Keyring> {
  const text = await readFile(path, 'utf8').catch((error: unknown) => {
    throw new SealError(
      'CS_SEAL_KEYRING_INVALID',
      `cannot read keyring ${path}: ${describeFileError(error)} (a new store creates its keyring with create: true)`,
    )
  })
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new SealError(
      'CS_SEAL_KEYRING_INVALID',
      `keyring ${path} is not JSON: it is not a keyring, or it was truncated`,
    )
  }
  const parsed = KeyringSchema.safeParse(json)
  if (!parsed.success)
    throw new SealError(
      'CS_SEAL_KEYRING_INVALID',
      `keyring ${path} is not a version ${VERSION} keyring: ${formatZodIssues(parsed.error).join('; ')}`,
    )
  return parsed.data
}

/** Writes the keyring atomically, mode 0600; `replace: false` returns false if one exists (nothing written). */
export async function writeKeyring(
  path: string,
  keyring: Keyring,
  options: { replace: boolean },
): Promise<boolean> {
  return writeFileAtomically(path, Buffer.from(`${JSON.stringify(keyring, null, 2)}\n`), options).catch(
    (error: unknown) => {
      throw new SealError(
        'CS_SEAL_KEYRING_INVALID',
        `cannot write keyring ${path}: ${describeFileError(error)} (its folder must exist and be writable)`,
      )
    },
  )
}
