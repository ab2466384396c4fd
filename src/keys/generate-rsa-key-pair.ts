import { generateKeyPair, type KeyObject } from 'node:crypto'
import { promisify } from 'node:util'
import { KeyUnsupported, MIN_RSA_BITS } from '../protocol/index.js'

const generate = promisify(generateKeyPair)

/** Fireblocks guides create API-user keys with `openssl req -newkey rsa:4096`. */
export const API_USER_KEY_BITS = 4096
/** Co-signers accept only RSA-2048 for a callback handler's key. */
export const CALLBACK_KEY_BITS = 2048
const MAX_RSA_BITS = 16384

export interface RsaKeyPair {
  readonly privateKey: KeyObject
  readonly publicKey: KeyObject
  /** PKCS#8 PEM. Secret: write it only with `writePrivateKeyFile`, never log it. */
  readonly privateKeyPem: string
  /** SPKI PEM. */
  readonly publicKeyPem: string
}

/** Generates an RSA key pair (e = 65537) off the main thread. */
export async function generateRsaKeyPair(bits: number = API_USER_KEY_BITS): Promise<RsaKeyPair> {
  if (!Number.isInteger(bits) || bits < MIN_RSA_BITS || bits > MAX_RSA_BITS || bits % 8 !== 0) {
    throw new KeyUnsupported(
      `an RSA key must have a multiple of 8 bits from ${MIN_RSA_BITS} to ${MAX_RSA_BITS}; got ${bits}`,
    )
  }
  const { privateKey, publicKey } = await generate('rsa', { modulusLength: bits, publicExponent: 65537 })
  return {
    privateKey,
    publicKey,
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  }
}
