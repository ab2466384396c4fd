import type { KeyObject } from 'node:crypto'
import { spkiFingerprint } from './spki-fingerprint.js'

export interface KeyMatch {
  readonly match: boolean
  /** Fingerprint of the first key (typically the API user's private key). */
  readonly keyFingerprint: string
  /** Fingerprint of the second (the CSR, public key or certificate it should belong to). */
  readonly otherFingerprint: string
}

/** Whether two keys (either may be private) share one public key, compared by SPKI fingerprint. */
export function checkKeyMatch(key: KeyObject, other: KeyObject): KeyMatch {
  const keyFingerprint = spkiFingerprint(key)
  const otherFingerprint = spkiFingerprint(other)
  return { match: keyFingerprint === otherFingerprint, keyFingerprint, otherFingerprint }
}
