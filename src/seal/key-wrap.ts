import { createCipheriv, createDecipheriv } from 'node:crypto'
import { SealError } from './errors.js'

/**
 * AES-256 key wrap with padding (RFC 5649, NIST SP 800-38F "KWP") through node:crypto's OpenSSL, for the
 * software KEKs (file and passphrase). Chosen over AES-GCM because it is the mechanism made for wrapping
 * keys: deterministic, so there is no nonce to generate or store, with its own integrity check (a wrong KEK
 * fails to unwrap), and it is the very mechanism the PKCS#11 provider asks the token for
 * (CKM_AES_KEY_WRAP_PAD), so all three providers wrap the data key the same way. Nothing else is encrypted
 * with a KEK, so GCM's associated data would bind nothing a key-check value does not already bind.
 */
const CIPHER = 'id-aes256-wrap-pad'
/** RFC 5649's alternative initial value: its first half; OpenSSL appends the length indicator. */
const KWP_IV = Buffer.from('a65959a6', 'hex')
export const KEK_BYTES = 32

export function wrapKey(kek: Uint8Array, dataKey: Uint8Array): Uint8Array {
  const cipher = createCipheriv(CIPHER, kek, KWP_IV)
  return new Uint8Array(Buffer.concat([cipher.update(dataKey), cipher.final()]))
}

/** Unwraps, or throws CS_SEAL_WRONG_KEK: KWP's integrity check is what tells a wrong KEK apart. */
export function unwrapKey(kek: Uint8Array, wrapped: Uint8Array, keyId: string): Uint8Array {
  try {
    const decipher = createDecipheriv(CIPHER, kek, KWP_IV)
    return takeBytes([decipher.update(wrapped), decipher.final()])
  } catch {
    throw new SealError(
      'CS_SEAL_WRONG_KEK',
      `the KEK ${keyId} does not unwrap this data key: it was wrapped by another KEK, or the wrapped key was altered`,
    )
  }
}

/**
 * Joins `parts` into one fresh array and zeroes them. Key material in JavaScript memory is protected only on
 * a best-effort basis, but copies that nobody can zero later (Buffer.concat draws from a shared pool) are
 * avoided.
 */
export function takeBytes(parts: readonly Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(parts.reduce((total, part) => total + part.length, 0))
  let offset = 0
  for (const part of parts) {
    bytes.set(part, offset)
    offset += part.length
    part.fill(0)
  }
  return bytes
}
