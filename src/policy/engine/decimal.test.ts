import { describe, expect, it } from 'vitest'
import { Decimal } from './decimal.js'

describe('Decimal', () => {
  const d = (text: string) => Decimal.parse(text)!

  it('compares exactly across scales and beyond 2^53', () => {
    expect(d('1.25').compare(d('1.250000000000000000'))).toBe(0)
    expect(d('9007199254740993').compare(d('9007199254740992'))).toBe(1)
    expect(d('0.000000000000000001').compare(d('0'))).toBe(1)
    expect(d('2').compare(d('10'))).toBe(-1)
  })

  it('accepts only non-negative decimal strings', () => {
    for (const bad of ['', '-1', '1e5', '1.', '.5', ' 1', '0x10', 'NaN'])
      expect(Decimal.parse(bad)).toBeUndefined()
  })

  it('prints the digits it was given', () => {
    expect(d('0.0845').toString()).toBe('0.0845')
    expect(d('1.250000000000000000').toJSON()).toBe('1.250000000000000000')
    expect(d('42').toString()).toBe('42')
  })
})
