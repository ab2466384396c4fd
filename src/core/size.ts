import { SizeInvalid } from './errors.js'

const UNIT_BYTES = { B: 1, KiB: 1024, MiB: 1024 * 1024 } as const

/**
 * Bytes of `1MiB`, `512KiB`, `1048576` (or a positive whole number); throws `SizeInvalid` naming the value
 * and the option or key it came from (`label`) otherwise.
 */
export function parseSize(value: string | number, label?: string): number {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value > 0) return value
    throw new SizeInvalid(String(value), label)
  }
  const match = /^([1-9]\d{0,12})\s*(B|KiB|MiB)?$/.exec(value.trim())
  if (match === null) throw new SizeInvalid(value, label)
  return Number(match[1]) * UNIT_BYTES[(match[2] ?? 'B') as keyof typeof UNIT_BYTES]
}
