import { createHash, createPublicKey, type KeyObject } from 'node:crypto'

/**
 * The SHA-256, lowercase hex, of the SPKI public key in PEM form with its trailing newline: byte-for-byte
 * what `openssl pkey -in KEY -pubout -outform pem | sha256sum` and
 * `openssl req -in CSR -pubkey -noout -outform pem | sha256sum` print. A private key gives its public half's.
 */
export function spkiFingerprint(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'pem' }))
    .digest('hex')
}
