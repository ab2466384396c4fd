import { sha256Hex } from '../core/index.js'

/**
 * What official clients hash for a request without a body (protocol.md §5.4): the empty string (ts-sdk,
 * py-sdk), two quote characters (legacy JS and Python SDKs) and `null` (Go and PHP examples).
 */
export const EMPTY_BODY_HASHES: readonly string[] = ['', '""', 'null'].map(sha256Hex)

/** Whether `bodyHash` (hex, any case) is the SHA-256 of the exact body bytes, or an accepted empty-body hash. */
export function bodyHashMatches(bodyHash: string, body: Uint8Array): boolean {
  const claimed = bodyHash.toLowerCase()
  if (body.length === 0) return EMPTY_BODY_HASHES.includes(claimed)
  return claimed === sha256Hex(body)
}
