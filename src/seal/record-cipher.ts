import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { isWellFormedText } from '../core/index.js'
import { SealError } from './errors.js'
import type { RecordRef } from './errors.js'
import { takeBytes } from './key-wrap.js'

/**
 * A sealed record: format (1 byte) | keyring key id (16) | nonce (12) | AES-256-GCM ciphertext | tag (16).
 * The format and key id travel in clear so that a record from another keyring is told apart from a
 * tampered one; both are also bound into the associated data, with the record's table, id and version, so
 * a ciphertext copied into another row, table or version fails to open.
 */
export const RECORD_FORMAT = 1
export const KEY_ID_BYTES = 16
export const DATA_KEY_BYTES = 32
const NONCE_BYTES = 12
const TAG_BYTES = 16
const HEADER_BYTES = 1 + KEY_ID_BYTES + NONCE_BYTES
const CIPHER = 'aes-256-gcm'
const DOMAIN = Buffer.from('countersign/seal/record')

/** The keyring's data key and its id: what sealing and opening a record need. */
export interface RecordKey {
  readonly dataKey: Uint8Array
  readonly keyId: Uint8Array
}

export function sealRecord(key: RecordKey, ref: RecordRef, plaintext: Uint8Array): Uint8Array {
  const aad = associatedData(key.keyId, ref)
  const nonce = randomBytes(NONCE_BYTES) // 96 random bits: one data key seals far fewer than 2^32 records
  const cipher = createCipheriv(CIPHER, key.dataKey, nonce)
  cipher.setAAD(aad)
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()])
  return new Uint8Array(
    Buffer.concat([Buffer.from([RECORD_FORMAT]), key.keyId, nonce, body, cipher.getAuthTag()]),
  )
}

export function openRecord(key: RecordKey, ref: RecordRef, sealed: Uint8Array): Uint8Array {
  const aad = associatedData(key.keyId, ref) // checks the reference before anything is read
  const where = describeRecord(ref)
  if (sealed.length < HEADER_BYTES + TAG_BYTES)
    throw new SealError('CS_SEAL_TAMPERED', `${where} is truncated (${sealed.length} bytes)`, { record: ref })
  if (sealed[0] !== RECORD_FORMAT)
    throw new SealError('CS_SEAL_TAMPERED', `${where} has unknown format ${sealed[0]}: altered`, {
      record: ref,
    })
  if (!Buffer.from(key.keyId).equals(sealed.subarray(1, 1 + KEY_ID_BYTES)))
    throw new SealError(
      'CS_SEAL_FOREIGN_RECORD',
      `${where} was sealed under another keyring: this store was copied from elsewhere or the keyring was replaced`,
      { record: ref },
    )
  const decipher = createDecipheriv(CIPHER, key.dataKey, sealed.subarray(1 + KEY_ID_BYTES, HEADER_BYTES))
  decipher.setAAD(aad)
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES))
  const plaintext = decipher.update(sealed.subarray(HEADER_BYTES, sealed.length - TAG_BYTES))
  try {
    return takeBytes([plaintext, decipher.final()])
  } catch {
    plaintext.fill(0)
    throw new SealError(
      'CS_SEAL_TAMPERED',
      `${where} fails authentication: it was altered, or moved from another table, id or version`,
      { record: ref },
    )
  }
}

/** How errors name a record: its place, never its content. */
function describeRecord(ref: RecordRef): string {
  return `sealed record ${JSON.stringify(ref.table)}/${JSON.stringify(ref.id)} (version ${ref.version})`
}

/**
 * domain | format | key id | table | id | version, each variable field preceded by its length (u32, big
 * endian) and the version as a u64: no two different references encode alike, which joining strings with a
 * separator cannot promise.
 */
function associatedData(keyId: Uint8Array, ref: RecordRef): Buffer {
  checkRef(ref)
  const version = Buffer.alloc(8)
  version.writeBigUInt64BE(BigInt(ref.version))
  return Buffer.concat([
    lengthPrefixed(DOMAIN),
    Buffer.from([RECORD_FORMAT]),
    keyId,
    lengthPrefixed(Buffer.from(ref.table, 'utf8')),
    lengthPrefixed(Buffer.from(ref.id, 'utf8')),
    version,
  ])
}

function lengthPrefixed(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4)
  length.writeUInt32BE(bytes.length)
  return Buffer.concat([length, bytes])
}

/** A lone surrogate would encode as U+FFFD, so two different ids could share associated data: refused. */
function checkRef(ref: RecordRef): void {
  for (const field of ['table', 'id'] as const) {
    const value = ref[field]
    if (typeof value !== 'string' || value.length === 0 || !isWellFormedText(value))
      throw new SealError('CS_SEAL_BAD_INPUT', `a record's ${field} must be a non-empty well-formed string`)
  }
  if (!Number.isSafeInteger(ref.version) || ref.version < 0)
    throw new SealError(
      'CS_SEAL_BAD_INPUT',
      `a record's version must be a non-negative safe integer, not ${String(ref.version)}`,
    )
}
