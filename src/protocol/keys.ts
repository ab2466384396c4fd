import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import { KeyUnsupported } from './errors.js'

/** Co-signers accept RSA keys of at least 2048 bits; anything smaller is refused at import. */
export const MIN_RSA_BITS = 2048

/** Keys already checked by `assertStrongRsa`: the hot path checks each configured key once, not per token. */
const checked = new WeakSet<KeyObject>()

/** Refuses a key that is not RSA (PKCS#1 v1.5: not RSA-PSS, EC or Ed25519) or is shorter than 2048 bits. */
export function assertStrongRsa(key: KeyObject, what: string): KeyObject {
  if (checked.has(key)) return key
  if (key.asymmetricKeyType !== 'rsa') {
    throw new KeyUnsupported(
      `${what} is ${key.asymmetricKeyType ?? 'not asymmetric'}; an RSA key is required`,
    )
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0
  if (bits < MIN_RSA_BITS) {
    throw new KeyUnsupported(`${what} has ${bits} bits; at least ${MIN_RSA_BITS} are required`)
  }
  checked.add(key)
  return key
}

/**
 * Imports an RSA public key once into a `KeyObject` (PEM SPKI, PKCS#1, a certificate, or a private key
 * from which the public half is derived). Re-importing a PEM per request costs ~6x on verify.
 */
export function importRsaPublicKey(key: string | Buffer | KeyObject, what = 'public key'): KeyObject {
  try {
    const keyObject = typeof key === 'string' || Buffer.isBuffer(key) ? createPublicKey(key) : key
    const publicKey = keyObject.type === 'private' ? createPublicKey(keyObject) : keyObject
    return assertStrongRsa(publicKey, what)
  } catch (error) {
    if (error instanceof KeyUnsupported) throw error
    throw new KeyUnsupported(`${what} could not be read as a PEM or DER key`, { cause: error })
  }
}

/** Imports an RSA private key once into a `KeyObject`; re-importing per response costs ~45x on sign. */
export function importRsaPrivateKey(key: string | Buffer | KeyObject, what = 'private key'): KeyObject {
  try {
    const keyObject = typeof key === 'string' || Buffer.isBuffer(key) ? createPrivateKey(key) : key
    if (keyObject.type !== 'private') throw new KeyUnsupported(`${what} is not a private key`)
    return assertStrongRsa(keyObject, what)
  } catch (error) {
    if (error instanceof KeyUnsupported) throw error
    throw new KeyUnsupported(`${what} could not be read as an unencrypted PEM or DER private key`, {
      cause: error,
    })
  }
}
