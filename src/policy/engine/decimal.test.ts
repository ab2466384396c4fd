import { describe, expect, it } from 'vitest'
import { Decimal } from './decimal.js'
import { formatDuration, parseDuration } from './duration.js'

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

describe('durations', () => {
  it('parse one unit, refuse anything else', () => {
    expect(parseDuration('500ms')).toBe(500)
    expect(parseDuration('50m')).toBe(3_000_000)
    expect(parseDuration('7d')).toBe(604_800_000)
    for (const bad of ['0s', '1h30m', '5', 'm', '-1s', '1.5h']) expect(parseDuration(bad)).toBeUndefined()
  })

  it('format to the largest exact unit', () => {
    expect(formatDuration(3_300_000)).toBe('55m')
    expect(formatDuration(90_000)).toBe('90s')
    expect(formatDuration(86_400_000)).toBe('1d')
    expect(formatDuration(1500)).toBe('1500ms')
  })
})
