import { generateKeyPair, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { promisify } from 'node:util'
import { canonicalJson, describeFileError } from '../core/index.js'
import { KeyUnreadable, StatementKeyUnsupported } from './errors.js'
import { spkiFingerprint } from './spki-fingerprint.js'

/**
 * Keys that sign statements (approver votes, audit anchors): Ed25519 by default, ECDSA P-256 accepted.
 * A statement is signed over its RFC 8785 canonical JSON, so the same facts always give the same bytes;
 * ECDSA signatures are IEEE P1363 (r||s), so both kinds are plain base64url strings.
 */
export interface StatementKeyPair {
  readonly privateKeyPem: string
  readonly publicKeyPem: string
  readonly publicKey: KeyObject
}

const generate = promisify(generateKeyPair)

export async function generateStatementKeyPair(): Promise<StatementKeyPair> {
  const { privateKey, publicKey } = await generate('ed25519')
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    publicKey,
  }
}

/** Throws unless `key` is Ed25519 or ECDSA P-256, the two kinds statements are signed with. */
function checkKind(key: KeyObject, label: string): void {
  const type = key.asymmetricKeyType
  if (type === 'ed25519') return
  if (type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return
  throw new StatementKeyUnsupported(
    `${label} is a${type === 'ec' ? 'n EC key on another curve' : ` ${type ?? 'unknown'} key`}; approver and anchor keys are Ed25519 or ECDSA P-256 (countersign keys generate --for approver)`,
  )
}

async function readKeyFile(path: string, label: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    throw new KeyUnreadable(`cannot read ${label}: ${describeFileError(error)}`, { cause: error })
  }
}

function parseKey<T>(label: string, what: string, parse: () => T): T {
  try {
    return parse()
  } catch (error) {
    throw new KeyUnreadable(`${label} is not a PEM ${what}`, { cause: error })
  }
}

/** Reads an approver's or anchor signer's private key (PKCS#8 PEM, unencrypted). */
export async function readStatementPrivateKey(path: string, label = path): Promise<KeyObject> {
  const text = await readKeyFile(path, label)
  const key = parseKey(label, 'private key', () => createPrivateKey(text))
  checkKind(key, label)
  return key
}

/** Parses a public key (SPKI PEM) and returns it in normal form with its SHA-256 fingerprint. */
export function importStatementPublicKey(pem: string, label: string): { pem: string; fingerprint: string } {
  const key = parseKey(label, 'public key', () => createPublicKey(pem))
  if (key.type !== 'public') throw new KeyUnreadable(`${label} is not a public key`)
  checkKind(key, label)
  return { pem: key.export({ type: 'spki', format: 'pem' }) as string, fingerprint: spkiFingerprint(key) }
}

export async function readStatementPublicKey(path: string, label = path) {
  return importStatementPublicKey(await readKeyFile(path, label), label)
}

function digestOf(key: KeyObject): string | null {
  return key.asymmetricKeyType === 'ed25519' ? null : 'sha256'
}

/** Signs the canonical JSON of `statement`; returns the signature, base64url. */
export function signStatement(statement: object, privateKey: KeyObject): string {
  const data = Buffer.from(canonicalJson(statement))
  return sign(digestOf(privateKey), data, { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString(
    'base64url',
  )
}

/** Whether `signature` is `publicKeyPem`'s over the canonical JSON of `statement`; never throws. */
export function verifyStatement(statement: object, signature: string, publicKeyPem: string): boolean {
  try {
    const key = createPublicKey(publicKeyPem)
    checkKind(key, 'the key')
    const bytes = Buffer.from(signature, 'base64url')
    // Node's decoder skips characters outside the alphabet: accept only the one spelling of these bytes.
    if (bytes.toString('base64url') !== signature) return false
    const data = Buffer.from(canonicalJson(statement))
    return verify(digestOf(key), data, { key, dsaEncoding: 'ieee-p1363' }, bytes)
  } catch {
    return false
  }
}
