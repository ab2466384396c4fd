/**
 * Exact decimal amounts for CEL conditions. Native amounts arrive as decimal strings (`amountStr`,
 * `fee`) and can exceed 2^53 base units (wei), so they are never turned into JS numbers: a `Decimal`
 * keeps the digits as a BigInt with a scale, and comparisons align the scales.
 */
export class Decimal {
  readonly units: bigint
  readonly scale: number

  constructor(units: bigint, scale: number) {
    this.units = units
    this.scale = scale
  }

  /** Parses a non-negative decimal string such as `"1.250000000000000000"`; `undefined` if it is not one. */
  static parse(text: string): Decimal | undefined {
    const match = /^(\d{1,78})(?:\.(\d{1,78}))?$/.exec(text)
    if (match === null) return undefined
    const fraction = match[2] ?? ''
    return new Decimal(BigInt(`${match[1]}${fraction}`), fraction.length)
  }

  /** -1, 0 or 1, exactly. */
  compare(other: Decimal): number {
    const scale = Math.max(this.scale, other.scale)
    const left = this.units * 10n ** BigInt(scale - this.scale)
    const right = other.units * 10n ** BigInt(scale - other.scale)
    return left < right ? -1 : left > right ? 1 : 0
  }

  toString(): string {
    if (this.scale === 0) return this.units.toString()
    const digits = this.units.toString().padStart(this.scale + 1, '0')
    return `${digits.slice(0, -this.scale)}.${digits.slice(-this.scale)}`
  }

  toJSON(): string {
    return this.toString()
  }
}
