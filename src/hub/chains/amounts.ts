import type { ChainAsset } from './assets.js'
import { ChainError } from './errors.js'

/** Longer inputs are refused before any arithmetic: no amount of a supported asset needs 80 digits. */
const MAX_AMOUNT_LENGTH = 80
const DECIMAL = /^(\d+)(?:\.(\d+))?$/

export interface ParseAmountOptions {
  /** The request field, named in the refusal (default `amount`). */
  readonly field?: string
  /** Refuse zero (a transfer of nothing). */
  readonly positive?: boolean
}

/**
 * A decimal amount of `asset` (a string, or a number as the legacy SDK may send it) in base units. Refuses
 * signs, exponents, blanks, and digits past the asset's decimals unless they are zeros (nothing is rounded).
 */
export function parseAmount(asset: ChainAsset, value: unknown, options: ParseAmountOptions = {}): bigint {
  const field = options.field ?? 'amount'
  const refuse = (why: string) =>
    new ChainError('CS_CHAIN_AMOUNT_INVALID', `${field} ${why} (${asset.id})`, { field })
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : value
  if (typeof text !== 'string') throw refuse('must be a decimal string such as "0.001"')
  if (text.length > MAX_AMOUNT_LENGTH) throw refuse(`is longer than ${MAX_AMOUNT_LENGTH} characters`)
  if (text.startsWith('-')) throw refuse(`must not be negative: "${text}"`)
  const match = DECIMAL.exec(text)
  if (match === null) throw refuse(`is not a plain decimal number: "${text}"`)
  const [, whole = '', fraction = ''] = match
  const significant = fraction.replace(/0+$/, '')
  if (significant.length > asset.decimals)
    throw refuse(`has ${significant.length} decimal places; ${asset.id} has ${asset.decimals}`)
  const units = BigInt(whole + significant.padEnd(asset.decimals, '0'))
  if (options.positive === true && units === 0n) throw refuse('must be greater than zero')
  return units
}

/** Base units of `asset` as the shortest decimal string ("0.5", "12", "0"), the API's amount format. */
export function formatAmount(asset: ChainAsset, units: bigint): string {
  if (units < 0n)
    throw new ChainError('CS_CHAIN_AMOUNT_INVALID', `a negative amount cannot be formatted (${asset.id})`)
  const digits = units.toString().padStart(asset.decimals + 1, '0')
  const whole = digits.slice(0, digits.length - asset.decimals)
  const fraction = digits.slice(digits.length - asset.decimals).replace(/0+$/, '')
  return fraction === '' ? whole : `${whole}.${fraction}`
}
