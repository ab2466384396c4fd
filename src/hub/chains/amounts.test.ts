import { describe, expect, it } from 'vitest'
import { assetRegistry, formatAmount, parseAmount } from './index.js'

const registry = assetRegistry()
const ETH = registry.get('ETH_TEST6')!
const BTC = registry.get('BTC_TEST')!
const SOL = registry.get('SOL_TEST')!

describe('amounts', () => {
  it.each([
    [ETH, '0.001', 10n ** 15n],
    [ETH, '1', 10n ** 18n],
    [ETH, '0.000000000000000001', 1n],
    [BTC, '21000000', 21_000_000n * 10n ** 8n],
    [BTC, '0.00000001', 1n],
    [BTC, '1.10000000000', 110_000_000n],
    [SOL, '0', 0n],
    [SOL, '007.5', 7_500_000_000n],
    [BTC, 0.001, 100_000n],
  ])('%s: %s is %s base units', (asset, text, units) => {
    expect(parseAmount(asset, text)).toBe(units)
  })

  it('formats base units as the shortest decimal string and round-trips', () => {
    expect(formatAmount(ETH, 10n ** 15n)).toBe('0.001')
    expect(formatAmount(ETH, 1n)).toBe('0.000000000000000001')
    expect(formatAmount(BTC, 110_000_000n)).toBe('1.1')
    expect(formatAmount(SOL, 0n)).toBe('0')
    expect(formatAmount(SOL, 12n * 10n ** 9n)).toBe('12')
    for (const units of [0n, 1n, 99n, 123456789012345678901234567890n])
      expect(parseAmount(ETH, formatAmount(ETH, units))).toBe(units)
    expect(() => formatAmount(ETH, -1n)).toThrow(expect.objectContaining({ code: 'CS_CHAIN_AMOUNT_INVALID' }))
  })

  it.each([
    ['-1', /amount must not be negative.*ETH_TEST6/],
    ['-0.5', /negative/],
    ['1e18', /not a plain decimal/],
    ['0x10', /not a plain decimal/],
    ['+1', /not a plain decimal/],
    [' 1', /not a plain decimal/],
    ['1.', /not a plain decimal/],
    ['.5', /not a plain decimal/],
    ['1,5', /not a plain decimal/],
    ['', /not a plain decimal/],
    ['NaN', /not a plain decimal/],
    ['1'.repeat(81), /longer than 80/],
    [null, /decimal string/],
    [{}, /decimal string/],
    [Number.POSITIVE_INFINITY, /decimal string/],
    [1e21, /not a plain decimal/],
  ])('refuses %j for ETH_TEST6', (value, reason) => {
    expect(() => parseAmount(ETH, value)).toThrow(
      expect.objectContaining({
        code: 'CS_CHAIN_AMOUNT_INVALID',
        field: 'amount',
        message: expect.stringMatching(reason),
      }),
    )
  })

  it('refuses excess precision naming the field and the asset, and zero where a positive amount is due', () => {
    expect(() => parseAmount(BTC, '0.000000001', { field: 'fee' })).toThrow(
      expect.objectContaining({
        field: 'fee',
        message: 'fee has 9 decimal places; BTC_TEST has 8 (BTC_TEST)',
      }),
    )
    expect(() => parseAmount(ETH, '0.0000000000000000001')).toThrow(/19 decimal places; ETH_TEST6 has 18/)
    expect(() => parseAmount(SOL, '0.000', { positive: true })).toThrow(
      /amount must be greater than zero \(SOL_TEST\)/,
    )
    expect(parseAmount(SOL, '0.000000001', { positive: true })).toBe(1n)
  })
})
