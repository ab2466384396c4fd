import { readFile } from 'node:fs/promises'
import { X509Certificate, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import { describeFileError, errnoCode } from '../core/index.js'
import { KeyEncrypted, KeyUnreadable } from './errors.js'
import { readPemBlocks, type PemBlock } from './pem.js'
import { CsrSignatureInvalid, readCsr } from './read-csr.js'

export const KeyMaterialKind = {
  privateKey: 'private key',
  publicKey: 'public key',
  csr: 'certificate signing request',
  certificate: 'certificate',
} as const
export type KeyMaterialKind = (typeof KeyMaterialKind)[keyof typeof KeyMaterialKind]

/** The public half of whatever a file held. The private key itself is never kept or returned. */
export interface KeyMaterial {
  readonly kind: KeyMaterialKind
  readonly format: 'pem' | 'der'
  readonly publicKey: KeyObject
  /** `rsa`, `ec`, `ed25519`, ... */
  readonly keyType: string
  /** Modulus length for RSA, curve size for EC; undefined when the type fixes it. */
  readonly bits: number | undefined
}

export interface ReadKeyMaterialOptions {
  /** Names the input in messages (a file path, "--key"). */
  readonly label?: string
  readonly passphrase?: string | Buffer
  /** The kinds this input may be; any other is refused with a sentence naming both. */
  readonly expect?: readonly KeyMaterialKind[]
}

const PRIVATE_LABELS = new Set(['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'ENCRYPTED PRIVATE KEY'])
const PUBLIC_LABELS = new Set(['PUBLIC KEY', 'RSA PUBLIC KEY'])
const CSR_LABELS = new Set(['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'])
/** Blocks that travel beside a key and carry none (openssl writes EC PARAMETERS before an EC key). */
const SKIPPED_LABELS = new Set(['EC PARAMETERS'])

/** Every structure read here is an ASN.1 SEQUENCE, so DER input starts with this tag byte. */
const DER_SEQUENCE_TAG = 0x30

const EC_CURVE_BITS: Readonly<Record<string, number>> = { prime256v1: 256, secp384r1: 384, secp521r1: 521 }

function describe(kind: KeyMaterialKind, format: 'pem' | 'der', publicKey: KeyObject): KeyMaterial {
  const keyType = publicKey.asymmetricKeyType ?? 'unknown'
  const details = publicKey.asymmetricKeyDetails
  const bits = details?.modulusLength ?? (details?.namedCurve ? EC_CURVE_BITS[details.namedCurve] : undefined)
  return { kind, format, publicKey, keyType, bits }
}

function hasErrnoCode(error: unknown, ...codes: string[]): boolean {
  return codes.includes(errnoCode(error) ?? '')
}

/** Turns Node's decryption failures into the two sentences an operator can act on. */
function publicFromPrivate(
  label: string,
  passphrase: string | Buffer | undefined,
  parse: (passphrase: string | Buffer | undefined) => KeyObject,
): KeyObject {
  try {
    return createPublicKey(parse(passphrase))
  } catch (error) {
    if (hasErrnoCode(error, 'ERR_MISSING_PASSPHRASE', 'ERR_OSSL_CRYPTO_INTERRUPTED_OR_CANCELLED')) {
      throw new KeyEncrypted(
        `${label} is an encrypted private key; give its passphrase with --passphrase-file`,
      )
    }
    if (passphrase !== undefined && hasErrnoCode(error, 'ERR_OSSL_BAD_DECRYPT', 'ERR_OSSL_EVP_BAD_DECRYPT')) {
      throw new KeyEncrypted(`${label} could not be decrypted with the passphrase given`, { cause: error })
    }
    throw error
  }
}

function fromPem(block: PemBlock, label: string, passphrase: string | Buffer | undefined): KeyMaterial {
  if (PRIVATE_LABELS.has(block.label)) {
    const encrypted =
      block.label === 'ENCRYPTED PRIVATE KEY' || block.headers.some((h) => h.includes('ENCRYPTED'))
    const publicKey = publicFromPrivate(label, passphrase, (secret) =>
      createPrivateKey(
        encrypted && secret !== undefined ? { key: block.text, passphrase: secret } : block.text,
      ),
    )
    return describe(KeyMaterialKind.privateKey, 'pem', publicKey)
  }
  if (PUBLIC_LABELS.has(block.label))
    return describe(KeyMaterialKind.publicKey, 'pem', createPublicKey(block.text))
  if (CSR_LABELS.has(block.label)) return describe(KeyMaterialKind.csr, 'pem', readCsr(block.der))
  if (block.label === 'CERTIFICATE') {
    return describe(KeyMaterialKind.certificate, 'pem', new X509Certificate(block.der).publicKey)
  }
  throw new KeyUnreadable(
    `${label} holds a "${block.label}" PEM block; expected a private key, public key, certificate signing request or certificate`,
  )
}

/** DER carries no label, so each structure is tried in turn; the first that parses names the kind. */
function fromDer(der: Buffer, label: string, passphrase: string | Buffer | undefined): KeyMaterial {
  const privateKey = (parse: (secret: string | Buffer | undefined) => KeyObject) =>
    describe(KeyMaterialKind.privateKey, 'der', publicFromPrivate(label, passphrase, parse))
  // Private keys first: createPublicKey would also accept a private key and hide its kind.
  const attempts: readonly (() => KeyMaterial)[] = [
    () =>
      privateKey((secret) =>
        createPrivateKey({
          key: der,
          format: 'der',
          type: 'pkcs8',
          ...(secret === undefined ? {} : { passphrase: secret }),
        }),
      ),
    () => privateKey(() => createPrivateKey({ key: der, format: 'der', type: 'pkcs1' })),
    () => privateKey(() => createPrivateKey({ key: der, format: 'der', type: 'sec1' })),
    () => describe(KeyMaterialKind.certificate, 'der', new X509Certificate(der).publicKey),
    () => describe(KeyMaterialKind.csr, 'der', readCsr(der)),
    () =>
      describe(KeyMaterialKind.publicKey, 'der', createPublicKey({ key: der, format: 'der', type: 'spki' })),
    () =>
      describe(KeyMaterialKind.publicKey, 'der', createPublicKey({ key: der, format: 'der', type: 'pkcs1' })),
  ]
  for (const attempt of attempts) {
    try {
      return attempt()
    } catch (error) {
      if (error instanceof KeyEncrypted || error instanceof CsrSignatureInvalid) throw error
    }
  }
  throw new KeyUnreadable(`${label} is DER but not a key, certificate signing request or certificate`)
}

function parse(data: Buffer, label: string, passphrase: string | Buffer | undefined): KeyMaterial {
  if (data.length === 0) throw new KeyUnreadable(`${label} is empty`)
  const text = data.toString('latin1')
  if (text.includes('-----BEGIN ')) {
    const block = readPemBlocks(text).find((candidate) => !SKIPPED_LABELS.has(candidate.label))
    if (block === undefined) throw new KeyUnreadable(`${label} holds no key, CSR or certificate`)
    return fromPem(block, label, passphrase)
  }
  if (data[0] !== DER_SEQUENCE_TAG) {
    throw new KeyUnreadable(`${label} is neither PEM (no -----BEGIN line) nor DER`)
  }
  return fromDer(data, label, passphrase)
}

/**
 * Reads a private key, public key, CSR or certificate, PEM or DER, and returns its public key and kind.
 * Every failure is one sentence naming the input: truncated or damaged PEM, an encrypted key without its
 * passphrase, a CSR whose self-signature fails, a file of another type.
 */
export function readKeyMaterial(data: Buffer | string, options: ReadKeyMaterialOptions = {}): KeyMaterial {
  const label = options.label ?? 'the input'
  let material: KeyMaterial
  try {
    material = parse(Buffer.isBuffer(data) ? data : Buffer.from(data), label, options.passphrase)
  } catch (error) {
    if (error instanceof KeyUnreadable || error instanceof KeyEncrypted) throw error
    const reason = error instanceof RangeError ? `: ${error.message}` : ''
    throw new KeyUnreadable(`${label} could not be read as a key, CSR or certificate${reason}`, {
      cause: error,
    })
  }
  if (options.expect !== undefined && !options.expect.includes(material.kind)) {
    throw new KeyUnreadable(`${label} is a ${material.kind}; expected a ${options.expect.join(' or a ')}`)
  }
  return material
}

/** `readKeyMaterial` on a file; an unreadable path is one sentence too. */
export async function readKeyMaterialFile(
  path: string,
  options: ReadKeyMaterialOptions = {},
): Promise<KeyMaterial> {
  let data: Buffer
  try {
    data = await readFile(path)
  } catch (error) {
    throw new KeyUnreadable(`cannot read ${options.label ?? path}: ${describeFileError(error)}`, {
      cause: error,
    })
  }
  return readKeyMaterial(data, { label: path, ...options })
}
