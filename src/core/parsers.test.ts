import { describe, expect, it } from 'vitest'
import {
  DurationInvalid,
  InstantInvalid,
  SizeInvalid,
  formatDuration,
  parseDuration,
  parseInstant,
  parseSince,
  parseSize,
} from './index.js'

describe('durations', () => {
  it('parse one unit', () => {
    expect(parseDuration('500ms')).toBe(500)
    expect(parseDuration('50m')).toBe(3_000_000)
    expect(parseDuration('7d')).toBe(604_800_000)
  })

  it('refuse anything else with the value, the option and the accepted form', () => {
    for (const bad of ['0s', '1h30m', '5', 'm', '-1s', '1.5h', ' 5m', '5 m']) {
      expect(() => parseDuration(bad)).toThrow(DurationInvalid)
    }
    expect(() => parseDuration('soon', '--timeout')).toThrow(
      /^--timeout "soon" is not a duration: write a whole number and one unit, e\.g\. 500ms/,
    )
  })

  it('format to the largest exact unit', () => {
    expect(formatDuration(3_300_000)).toBe('55m')
    expect(formatDuration(90_000)).toBe('90s')
    expect(formatDuration(86_400_000)).toBe('1d')
    expect(formatDuration(1500)).toBe('1500ms')
  })
})

describe('instants', () => {
  it('read ISO 8601 dates and date-times with a zone', () => {
    expect(parseInstant('2026-05-01').toISOString()).toBe('2026-05-01T00:00:00.000Z')
    expect(parseInstant('2026-05-01T12:30:00Z').toISOString()).toBe('2026-05-01T12:30:00.000Z')
    expect(parseInstant('2026-05-01T14:30:00.250+02:00').toISOString()).toBe('2026-05-01T12:30:00.250Z')
  })

  it('refuse other date texts, and times without a zone, which each machine would read in its own', () => {
    for (const bad of ['yesterday', 'May 1 2026', '2026-05-01T12:30:00', '2026-13-01', '1714564800000']) {
      expect(() => parseInstant(bad), bad).toThrow(InstantInvalid)
    }
    expect(() => parseInstant('yesterday', '--now')).toThrow(/^--now "yesterday" is not an ISO 8601 instant/)
  })

  it('read "since" as an instant or a duration back from now', () => {
    const now = Date.parse('2026-05-08T00:00:00Z')
    expect(parseSince('7d', now)).toBe(Date.parse('2026-05-01T00:00:00Z'))
    expect(parseSince('2026-05-01', now)).toBe(Date.parse('2026-05-01T00:00:00Z'))
    expect(() => parseSince('last week', now, '--since')).toThrow(
      /^--since "last week" is not an ISO 8601 instant.*or a duration back from now/,
    )
  })
})

describe('sizes', () => {
  it('read bytes, KiB and MiB', () => {
    expect(parseSize('1MiB')).toBe(1_048_576)
    expect(parseSize('512KiB')).toBe(524_288)
    expect(parseSize('1048576')).toBe(1_048_576)
    expect(parseSize(2048)).toBe(2048)
  })

  it('refuse zero, negatives, fractions and unknown units', () => {
    for (const bad of ['0', '-1', '1.5MiB', '1MB', '1GiB', 'big', 0, -5, 1.5, Number.NaN]) {
      expect(() => parseSize(bad), String(bad)).toThrow(SizeInvalid)
    }
    expect(() => parseSize('1MB', 'bodyLimit')).toThrow(/^bodyLimit "1MB" is not a size/)
  })
})
