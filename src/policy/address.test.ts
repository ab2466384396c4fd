import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { compile, DEFAULTS, policyDir, txInput } from '../../test/policy/support.js'
import { normalizeAddress } from './engine/address.js'
import { decideNow } from './decide.js'

const CHECKSUMMED = '0x7F367cC41522cE07553e823bf3be79A889DEbe1B'
const BECH32 = 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq'
const SOLANA = '7EcDhSYGxXyscszYEp35KHN8vvw3svAuLKTzXwCFLtV'

/** Issue 11 item 8: a blocked address in another letter case must still be blocked. */
describe('address normalization', () => {
  it('lower-cases EVM hex and bech32 addresses, and leaves case-significant formats alone', () => {
    expect(normalizeAddress(CHECKSUMMED)).toBe(CHECKSUMMED.toLowerCase())
    expect(normalizeAddress(CHECKSUMMED.toUpperCase().replace('0X', '0x'))).toBe(CHECKSUMMED.toLowerCase())
    expect(normalizeAddress(BECH32.toUpperCase())).toBe(BECH32)
    expect(normalizeAddress(SOLANA)).toBe(SOLANA)
    expect(normalizeAddress('1BoatSLRHtKNngkdXEeobR76b53LETtpyX')).toBe('1BoatSLRHtKNngkdXEeobR76b53LETtpyX')
    expect(normalizeAddress('USDC')).toBe('USDC')
    // Mixed-case bech32 is not a valid spelling of any address: it stays as written.
    expect(normalizeAddress('bc1QAR0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq')).toBe(
      'bc1QAR0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq',
    )
  })

  const guarded = `version: 1
${DEFAULTS}
lists:
  blocked: { file: blocked.json }
guards:
  - id: blocked
    when: dest.address in lists.blocked || destinations.exists(d, d.address in lists.blocked)
tx_signing:
  - { id: rest, action: APPROVE }
`
  function policyBlocking(addresses: readonly string[]) {
    const dir = policyDir()
    writeFileSync(join(dir, 'blocked.json'), JSON.stringify(addresses))
    return compile(guarded, dir)
  }

  it.each([
    ['lower case', CHECKSUMMED.toLowerCase()],
    ['upper case', `0x${CHECKSUMMED.slice(2).toUpperCase()}`],
  ])('blocks a checksummed list entry sent in %s', (_case, address) => {
    const decision = decideNow(
      policyBlocking([CHECKSUMMED]),
      txInput('eth-transfer-signing', { destAddress: address }),
    )
    expect(decision).toMatchObject({ action: 'REJECT', ruleId: 'blocked' })
  })

  it('blocks a lower-case list entry sent checksummed, in any destination', () => {
    const input = txInput('btc-one-time-address', {
      destinations: [
        {
          amountUSD: 10,
          dstAddressType: 'ONE_TIME',
          dstId: '',
          dstType: 'ONE_TIME_ADDRESS',
          dstAddress: CHECKSUMMED,
        },
      ],
    })
    const decision = decideNow(policyBlocking([CHECKSUMMED.toLowerCase()]), input)
    expect(decision).toMatchObject({ action: 'REJECT', ruleId: 'blocked' })
  })

  it('blocks an upper-case bech32 spelling of a blocked Bitcoin address', () => {
    const decision = decideNow(
      policyBlocking([BECH32]),
      txInput('btc-one-time-address', { destAddress: BECH32.toUpperCase() }),
    )
    expect(decision).toMatchObject({ action: 'REJECT', ruleId: 'blocked' })
  })

  it('does not confuse base58 addresses that differ only in case', () => {
    const decision = decideNow(
      policyBlocking([SOLANA]),
      txInput('eth-transfer-signing', { destAddress: SOLANA.toLowerCase() }),
    )
    expect(decision).toMatchObject({ action: 'APPROVE', ruleId: 'rest' })
  })

  it('compares match values and inline lists in the same spelling', () => {
    const policy = compile(`version: 1
${DEFAULTS}
lists:
  watched: ['${CHECKSUMMED}']
tx_signing:
  - { id: by-match, match: { asset: [ETH], dest.address: ['${CHECKSUMMED}'] }, action: REJECT }
  - { id: by-list, when: dest.address in lists.watched, action: REJECT }
  - { id: rest, action: APPROVE }
`)
    const lower = CHECKSUMMED.toLowerCase()
    expect(decideNow(policy, txInput('eth-transfer-signing', { destAddress: lower })).ruleId).toBe('by-match')
    const usdc = txInput('eth-transfer-signing', { destAddress: lower, asset: 'USDC' })
    expect(decideNow(policy, usdc).ruleId).toBe('by-list')
  })
})
