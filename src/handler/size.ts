/** Parses `1MiB`, `512KiB`, `1048576` into bytes; `undefined` when the value is not a size. */
export function parseSizeBytes(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value > 0 ? value : undefined
  const match = /^(\d+)\s*(B|KiB|MiB)?$/.exec(value.trim())
  if (!match) return undefined
  return Number(match[1]) * { B: 1, KiB: 1024, MiB: 1024 * 1024 }[(match[2] ?? 'B') as 'B' | 'KiB' | 'MiB']
}
