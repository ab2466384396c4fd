import { randomFillSync, timingSafeEqual } from 'node:crypto'
import { SealError } from './errors.js'
import type { RecordRef } from './errors.js'
import { keyringOf, readKeyring, writeKeyring } from './keyring-file.js'
import type { Keyring } from './keyring-file.js'
import type { KeyEncryptionProvider } from './provider.js'
import { DATA_KEY_BYTES, KEY_ID_BYTES, openRecord, sealRecord } from './record-cipher.js'
import type { RecordKey } from './record-cipher.js'

export interface OpenSealerOptions {
  /** The keyring file (JSON, mode 0600), kept beside the store it seals. */
  readonly keyringPath: string
  /** Unwraps the data key once, here; it may be closed as soon as `openSealer` resolves. */
  readonly provider: KeyEncryptionProvider
  /** Create a new keyring (a new data key) for a new store; refused if the file exists. */
  readonly create?: boolean
}

/** Seals and opens the records of one store under the keyring's data key. */
export interface Sealer {
  /** The keyring's random id (hex), carried by every record it seals. */
  readonly keyId: string
  seal(ref: RecordRef, plaintext: Uint8Array): Uint8Array
  /** The plaintext, or CS_SEAL_TAMPERED / CS_SEAL_FOREIGN_RECORD naming the record (never its content). */
  open(ref: RecordRef, sealed: Uint8Array): Uint8Array
  /** KEK rotation: the same data key wrapped by `provider` (checked to unwrap), records untouched. */
  rewrap(provider: KeyEncryptionProvider): Promise<void>
  /** Zeroes the data key; the sealer refuses to work afterwards. */
  close(): void
}

/** The key-check value: a fixed record sealed under the data key, opened at every start. */
const CHECK_REF: RecordRef = { table: 'countersign.keyring', id: 'key-check', version: 1 }
const CHECK_PLAINTEXT = new TextEncoder().encode('countersign keyring key-check')

export async function openSealer(options: OpenSealerOptions): Promise<Sealer> {
  const { keyringPath, provider } = options
  return options.create === true ? createKeyring(keyringPath, provider) : openKeyring(keyringPath, provider)
}

async function createKeyring(path: string, provider: KeyEncryptionProvider): Promise<Sealer> {
  const key: RecordKey = {
    dataKey: randomFillSync(Buffer.alloc(DATA_KEY_BYTES)),
    keyId: randomFillSync(Buffer.alloc(KEY_ID_BYTES)),
  }
  try {
    const keyring = keyringOf({
      keyId: Buffer.from(key.keyId).toString('hex'),
      provider: { kind: provider.kind, keyId: provider.keyId },
      wrappedDataKey: Buffer.from(await provider.wrap(key.dataKey)).toString('base64'),
      check: Buffer.from(sealRecord(key, CHECK_REF, CHECK_PLAINTEXT)).toString('base64'),
    })
    if (!(await writeKeyring(path, keyring, { replace: false })))
      throw new SealError(
        'CS_SEAL_KEYRING_EXISTS',
        `keyring ${path} already exists; refusing to replace it (every record sealed under it would be lost): open it instead`,
      )
    return new KeyringSealer(path, keyring, key)
  } catch (error) {
    key.dataKey.fill(0)
    throw error
  }
}

async function openKeyring(path: string, provider: KeyEncryptionProvider): Promise<Sealer> {
  const keyring = await readKeyring(path)
  if (keyring.provider.kind !== provider.kind)
    throw new SealError(
      'CS_SEAL_PROVIDER_MISMATCH',
      `keyring ${path} was wrapped by the ${keyring.provider.kind} provider (${keyring.provider.keyId}), not ${provider.kind}: open it with that provider`,
    )
  const dataKey = await unwrapDataKey(path, keyring, provider)
  const key: RecordKey = { dataKey, keyId: Buffer.from(keyring.keyId, 'hex') }
  verifyKeyCheck(path, keyring, key)
  return new KeyringSealer(path, keyring, key)
}

async function unwrapDataKey(
  path: string,
  keyring: Keyring,
  provider: KeyEncryptionProvider,
): Promise<Buffer> {
  let unwrapped: Uint8Array
  try {
    unwrapped = await provider.unwrap(Buffer.from(keyring.wrappedDataKey, 'base64'))
  } catch (error) {
    if (error instanceof SealError && error.code === 'CS_SEAL_WRONG_KEK')
      throw new SealError(
        'CS_SEAL_WRONG_KEK',
        `keyring ${path} cannot be opened with ${provider.keyId} (it was wrapped by ${keyring.provider.keyId}): ${error.message}`,
        { cause: error },
      )
    throw error
  }
  // Outside the pool, so that close() zeroes the only copy this module keeps.
  const dataKey = Buffer.alloc(unwrapped.length)
  dataKey.set(unwrapped)
  unwrapped.fill(0)
  if (dataKey.length !== DATA_KEY_BYTES) {
    dataKey.fill(0)
    throw new SealError(
      'CS_SEAL_KEYRING_INVALID',
      `keyring ${path} wraps a data key of the wrong size: it was altered`,
    )
  }
  return dataKey
}

function verifyKeyCheck(path: string, keyring: Keyring, key: RecordKey): void {
  try {
    openRecord(key, CHECK_REF, Buffer.from(keyring.check, 'base64')).fill(0)
  } catch (error) {
    key.dataKey.fill(0)
    throw new SealError(
      'CS_SEAL_KEYRING_INVALID',
      `keyring ${path} fails its key check: its key id, check value or wrapped key was altered, or the wrapped key was copied from another keyring`,
      { cause: error },
    )
  }
}

class KeyringSealer implements Sealer {
  readonly keyId: string
  private readonly path: string
  private keyring: Keyring
  private readonly key: RecordKey
  private closed = false

  constructor(path: string, keyring: Keyring, key: RecordKey) {
    this.path = path
    this.keyring = keyring
    this.key = key
    this.keyId = keyring.keyId
  }

  seal(ref: RecordRef, plaintext: Uint8Array): Uint8Array {
    return sealRecord(this.live(), ref, plaintext)
  }

  open(ref: RecordRef, sealed: Uint8Array): Uint8Array {
    return openRecord(this.live(), ref, sealed)
  }

  async rewrap(provider: KeyEncryptionProvider): Promise<void> {
    const { dataKey } = this.live()
    const wrapped = await provider.wrap(dataKey)
    // A provider that wraps what it cannot unwrap would lock the store for good: prove it before replacing.
    const unwrapped = await provider.unwrap(wrapped)
    const same = unwrapped.length === dataKey.length && timingSafeEqual(unwrapped, dataKey)
    unwrapped.fill(0)
    if (!same)
      throw new SealError(
        'CS_SEAL_WRONG_KEK',
        `${provider.keyId} does not unwrap what it wrapped: keyring ${this.path} kept`,
      )
    const keyring = keyringOf({
      keyId: this.keyring.keyId,
      provider: { kind: provider.kind, keyId: provider.keyId },
      wrappedDataKey: Buffer.from(wrapped).toString('base64'),
      check: this.keyring.check,
    })
    await writeKeyring(this.path, keyring, { replace: true })
    this.keyring = keyring
  }

  close(): void {
    this.closed = true
    this.key.dataKey.fill(0)
  }

  private live(): RecordKey {
    if (this.closed) throw new SealError('CS_SEAL_CLOSED', `the sealer of keyring ${this.path} is closed`)
    return this.key
  }
}
