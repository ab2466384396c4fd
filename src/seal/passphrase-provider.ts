import { randomBytes, scrypt } from 'node:crypto'
import type { ScryptOptions } from 'node:crypto'
import { SealError } from './errors.js'
import { KEK_BYTES, unwrapKey, wrapKey } from './key-wrap.js'
import type { KeyEncryptionProvider } from './provider.js'

/** scrypt's cost: N (a power of two, at least 2^15), r and p. */
export interface ScryptCost {
  readonly N: number
  readonly r: number
  readonly p: number
}

export interface PassphraseProviderOptions {
  /** From the caller (an environment variable or a file read by the CLI); never logged, never stored. */
  readonly passphrase: string
  /** The cost of new wraps; unwrapping uses the cost stored with the wrapped key. Default N = 2^17, r = 8, p = 1. */
  readonly cost?: ScryptCost
}

/** OWASP's recommendation for scrypt: 128 MiB, about a third of a second on a server core. */
const DEFAULT_COST: ScryptCost = { N: 2 ** 17, r: 8, p: 1 }
const MIN_LOG2_N = 15
/** Bounds on what a keyring may ask for, so an altered keyring cannot make opening it exhaust memory or time. */
const MAX_LOG2_N = 20
const MAX_R = 32
const MAX_P = 16
const MAX_MEMORY_BYTES = 1024 ** 3
const SALT_BYTES = 16
const FORMAT = 1
/** format, log2 N, r, p: one byte each, then the salt, then the RFC 5649 wrap of the data key. */
const HEADER_BYTES = 4

/**
 * The KEK is derived from a passphrase with scrypt; the wrapped key carries its own salt and cost, so a new
 * salt is drawn at every wrap and a keyring stays readable if the default cost rises.
 */
export function openPassphraseProvider(options: PassphraseProviderOptions): KeyEncryptionProvider {
  if (options.passphrase.length === 0)
    throw new SealError('CS_SEAL_PASSPHRASE', 'the passphrase is empty: give a non-empty passphrase')
  const cost = options.cost ?? DEFAULT_COST
  const problem = costProblem(cost)
  if (problem !== undefined) throw new SealError('CS_SEAL_PASSPHRASE', `scrypt cost refused: ${problem}`)
  // One normalisation, so a passphrase typed, pasted or read from a file derives the same KEK.
  const secret = Buffer.from(options.passphrase.normalize('NFC'), 'utf8')
  const keyId = 'passphrase:scrypt'
  let closed = false
  const live = (): Buffer => {
    if (closed) throw new SealError('CS_SEAL_CLOSED', 'the passphrase KEK provider is closed')
    return secret
  }
  return {
    kind: 'passphrase',
    keyId,
    wrap: async (dataKey) => {
      const salt = randomBytes(SALT_BYTES)
      const kek = await deriveKek(live(), salt, cost)
      try {
        const header = [FORMAT, Math.log2(cost.N), cost.r, cost.p]
        return new Uint8Array(Buffer.concat([Buffer.from(header), salt, wrapKey(kek, dataKey)]))
      } finally {
        kek.fill(0)
      }
    },
    unwrap: async (wrapped) => {
      const { salt, cost: stored, body } = parseWrapped(wrapped)
      const kek = await deriveKek(live(), salt, stored)
      try {
        return unwrapKey(kek, body, keyId)
      } catch (error) {
        if (error instanceof SealError && error.code === 'CS_SEAL_WRONG_KEK')
          throw new SealError('CS_SEAL_WRONG_KEK', 'wrong passphrase: it does not unwrap this keyring')
        throw error
      } finally {
        kek.fill(0)
      }
    },
    close: async () => {
      closed = true
      secret.fill(0)
    },
  }
}

function costProblem(cost: ScryptCost): string | undefined {
  const log2N = Math.log2(cost.N)
  if (!Number.isInteger(log2N) || log2N < MIN_LOG2_N || log2N > MAX_LOG2_N)
    return `N must be a power of two from 2^${MIN_LOG2_N} to 2^${MAX_LOG2_N}, not ${cost.N}`
  if (!Number.isInteger(cost.r) || cost.r < 1 || cost.r > MAX_R) return `r must be 1 to ${MAX_R}`
  if (!Number.isInteger(cost.p) || cost.p < 1 || cost.p > MAX_P) return `p must be 1 to ${MAX_P}`
  if (memoryBytes(cost) > MAX_MEMORY_BYTES) return 'N × r asks for more than 1 GiB'
  return undefined
}

const memoryBytes = (cost: ScryptCost): number => 128 * cost.N * cost.r

function deriveKek(secret: Buffer, salt: Uint8Array, cost: ScryptCost): Promise<Buffer> {
  const options: ScryptOptions = { ...cost, maxmem: 2 * memoryBytes(cost) }
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, KEK_BYTES, options, (error, kek) => (error === null ? resolve(kek) : reject(error)))
  })
}

function parseWrapped(wrapped: Uint8Array): { salt: Uint8Array; cost: ScryptCost; body: Uint8Array } {
  const invalid = (why: string) =>
    new SealError(
      'CS_SEAL_KEYRING_INVALID',
      `the passphrase-wrapped data key ${why}: the keyring was altered`,
    )
  if (wrapped.length <= HEADER_BYTES + SALT_BYTES) throw invalid('is truncated')
  if (wrapped[0] !== FORMAT) throw invalid(`has unknown format ${wrapped[0]}`)
  const cost = { N: 2 ** wrapped[1]!, r: wrapped[2]!, p: wrapped[3]! }
  const problem = costProblem(cost)
  if (problem !== undefined) throw invalid(`asks for a scrypt cost out of bounds (${problem})`)
  return {
    cost,
    salt: wrapped.subarray(HEADER_BYTES, HEADER_BYTES + SALT_BYTES),
    body: wrapped.subarray(HEADER_BYTES + SALT_BYTES),
  }
}
