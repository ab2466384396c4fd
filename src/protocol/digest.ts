import { createHash } from 'node:crypto'

/**
 * JSON with object keys sorted at every level, so the same data always serialises to the same bytes
 * (audit hashes, payload digests). Arrays keep their order; `undefined` members are dropped as JSON does.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value))
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value === null || typeof value !== 'object') return value
  const sorted: Record<string, unknown> = {}
  for (const key of Object.keys(value).sort()) sorted[key] = sortKeys((value as Record<string, unknown>)[key])
  return sorted
}

export function sha256Hex(data: string): string {
  return createHash('sha256').update(data).digest('hex')
}
