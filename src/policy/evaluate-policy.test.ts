import { writeFileSync, utimesSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  compile,
  configInput,
  DEFAULTS,
  NOW,
  policyDir,
  decideWith,
  txInput,
  usdInput,
} from '../../test/policy/support.js'
import { loadTxFixture } from '../testing/index.js'
import { velocityKey } from './velocity.js'

const LIMIT_POLICY = `
version: 1
${DEFAULTS}
velocity:
  - id: vault_24h
    window: 24h
    group_by: [source.id, asset]
tx_signing:
  - id: vault-limit
    when: velocity.vault_24h.sum_usd + amount_usd > 50000.0
    action: REJECT
    reason: vault above 50,000 USD in 24h
  - id: approve-rest
    action: APPROVE
`

describe('first-match rules, guards and defaults', () => {
  const policy = compile(`
version: 1
${DEFAULTS}
guards:
  - id: no-raw
    when: operation == 'RAW'
    reason: raw signing is not automated
tx_signing:
  - id: small
    match: { asset: [ETH, BTC], dest.address_type: WHITELISTED }
    when: amount_usd < 5000.0
    action: APPROVE
  - id: also-small
    when: amount_usd < 5000.0
    action: RETRY
`)

  it('the first rule whose match and condition hold decides', () => {
    const decision = policy.evaluate(txInput('eth-transfer-signing'), new Map())
    expect(decision).toMatchObject({ action: 'APPROVE', ruleId: 'small', reason: 'rule small' })
    expect(decision.trace.rules.map((rule) => rule.id)).toEqual(['small'])
  })

  it('a match map that does not hold moves on and records the mismatching field', () => {
    const decision = policy.evaluate(txInput('eth-transfer-signing', { asset: 'USDC' }), new Map())
    expect(decision).toMatchObject({ action: 'RETRY', ruleId: 'also-small' })
    expect(decision.trace.rules[0]).toEqual({
      id: 'small',
      result: false,
      mismatch: { field: 'asset', value: 'USDC', allowed: ['ETH', 'BTC'] },
    })
  })

  it('no matching rule gives the kind default, with a null ruleId', () => {
    const decision = policy.evaluate(usdInput(9000), new Map())
    expect(decision).toMatchObject({ action: 'REJECT', ruleId: null })
    expect(decision.reason).toBe('no rule matched; default REJECT for tx_signing')
    expect(decision.trace.decided_by).toBe('default')
  })

  it('a guard hit rejects before any rule, and names the guard', () => {
    const decision = policy.evaluate(txInput('eth-transfer-signing', { operation: 'RAW' }), new Map())
    expect(decision).toMatchObject({
      action: 'REJECT',
      ruleId: 'no-raw',
      reason: 'guard no-raw: raw signing is not automated',
    })
    expect(decision.trace.rules).toEqual([])
    expect(decision.trace.guards).toEqual([
      { id: 'no-raw', result: true, when: "operation == 'RAW'", values: { operation: 'RAW' } },
    ])
  })

  it('guards apply to transactions by default, not to configuration changes', () => {
    const decision = policy.evaluate(configInput('add-user'), new Map())
    expect(decision.trace.guards).toEqual([])
    expect(decision.action).toBe('REJECT')
  })

  it('the trace shows the values the condition read, and is plain JSON', () => {
    const decision = policy.evaluate(txInput('eth-transfer-signing'), new Map())
    expect(decision.trace.rules[0]).toMatchObject({
      when: 'amount_usd < 5000.0',
      values: { amount_usd: 4187.5 },
    })
    expect(JSON.parse(JSON.stringify(decision.trace))).toEqual(decision.trace)
    expect(decision.trace).toMatchObject({
      kind: 'tx_signing',
      requestId: '48f6871c-0467-4b56-8c44-426f3d6487f5',
      now: NOW.toISOString(),
      policy: { version: '1', digest: expect.stringMatching(/^[0-9a-f]{64}$/) },
    })
  })
})

describe('velocity', () => {
  const policy = compile(LIMIT_POLICY)

  it('probes carry the window, the group from group_by and the exact cents of the request', () => {
    expect(policy.velocityProbes(txInput('multi-destination', {}, 'tx_signing'))).toEqual([
      {
        windowId: 'vault_24h',
        groupKey: 'source.id=3|asset=USDC',
        windowMs: 86_400_000,
        bucketMs: 300_000,
        // 9998.70 + 4999.35 USD: summed as cents, no float drift
        amountUsdCents: 1_499_805,
      },
    ])
  })

  it('approves 1,000 USD at 49,000 USD before it, rejects it at 50,000 USD', () => {
    const input = usdInput(1000)
    const at = (usd: number, count: number) =>
      decideWith(policy, input, { vault_24h: { sumUsdCents: usd * 100, count } })
    expect(at(49_000, 49)).toMatchObject({ action: 'APPROVE', ruleId: 'approve-rest' })
    const rejected = at(50_000, 50)
    expect(rejected).toMatchObject({
      action: 'REJECT',
      ruleId: 'vault-limit',
      reason: 'vault above 50,000 USD in 24h',
    })
    expect(rejected.trace.velocity).toEqual([
      { window: 'vault_24h', group: 'source.id=0|asset=ETH', sum_usd: 50_000, count: 50, adds_usd: 1000 },
    ])
  })

  it('exactly 50 of a sequence of 1,000 USD requests pass a 50,000 USD window', () => {
    const input = usdInput(1000)
    let figures = { sumUsdCents: 0, count: 0 }
    let approved = 0
    for (let request = 0; request < 200; request += 1) {
      const decision = decideWith(policy, input, { vault_24h: figures })
      if (decision.action !== 'APPROVE') continue
      approved += 1
      const [probe] = policy.velocityProbes(input)
      figures = { sumUsdCents: figures.sumUsdCents + probe!.amountUsdCents, count: figures.count + 1 }
    }
    expect(approved).toBe(50)
  })

  it('a snapshot without the series fails closed instead of reading an empty history', () => {
    const decision = policy.evaluate(usdInput(1000), new Map())
    expect(decision).toMatchObject({ action: 'REJECT', ruleId: null })
    expect(decision.trace.error).toEqual({
      at: 'velocity.vault_24h',
      message: 'no valid velocity figures for group source.id=0|asset=ETH',
    })
  })

  it('corrupt figures fail closed', () => {
    const input = usdInput(1000)
    const key = velocityKey('vault_24h', 'source.id=0|asset=ETH')
    const decision = policy.evaluate(input, new Map([[key, { sumUsdCents: Number.NaN, count: 0 }]]))
    expect(decision.trace.decided_by).toBe('error')
    expect(decision.action).toBe('REJECT')
  })

  it('a group_by field missing from the request fails closed, and no probe is offered for it', () => {
    const bySigner = compile(`
version: 1
${DEFAULTS}
velocity:
  - { id: signer_1h, window: 1h, group_by: [signer_id] }
tx_signing:
  - { id: all, action: APPROVE }
`)
    const input = txInput('eth-transfer-signing', { signerId: undefined })
    expect(bySigner.velocityProbes(input)).toEqual([])
    const decision = bySigner.evaluate(input, new Map())
    expect(decision).toMatchObject({ action: 'REJECT', ruleId: null })
    expect(decision.trace.error?.message).toBe(
      'window groups by signer_id, which this request does not carry',
    )
  })

  it('windows count signing requests by default: approvals get no probe', () => {
    expect(policy.velocityProbes(txInput('eth-transfer-approval'))).toEqual([])
    expect(policy.velocityProbes(configInput('add-user'))).toEqual([])
  })

  it('group values are encoded, so a crafted value cannot collide with another group', () => {
    const byDest = compile(`
version: 1
${DEFAULTS}
velocity:
  - { id: pair, window: 1h, group_by: [dest.address, asset] }
`)
    const crafted = byDest.velocityProbes(txInput('eth-transfer-signing', { destAddress: 'a|asset=ETH' }))
    const plain = byDest.velocityProbes(txInput('eth-transfer-signing', { destAddress: 'a' }))
    expect(crafted[0]!.groupKey).not.toBe(plain[0]!.groupKey)
  })
})

describe('failing closed', () => {
  it('a condition reading a field the request lacks fails closed with the on_error action', () => {
    const policy = compile(`
version: 1
defaults:
  tx_approval: IGNORE
  tx_signing: REJECT
  config_change: IGNORE
  on_error: { config_change: RETRY }
config_change:
  - id: payee-asset
    when: extraInfo.asset == 'USDC'
    action: APPROVE
`)
    const decision = policy.evaluate(configInput('add-user'), new Map())
    expect(decision).toMatchObject({ action: 'RETRY', ruleId: null })
    expect(decision.reason).toBe(
      'policy evaluation failed in rule payee-asset: No such key: asset; failing closed',
    )
    expect(decision.trace.error).toEqual({ at: 'rule payee-asset', message: 'No such key: asset' })
    expect(decision.trace.decided_by).toBe('error')
  })

  it('an error is never "no match": a REJECT rule that errors does not let a later APPROVE through', () => {
    const policy = compile(`
version: 1
${DEFAULTS}
tx_signing:
  - id: block-bad-signer
    when: signer_id == 'compromised'
    action: REJECT
  - id: approve
    action: APPROVE
`)
    const decision = policy.evaluate(txInput('eth-transfer-signing', { signerId: undefined }), new Map())
    expect(decision.action).toBe('REJECT')
    expect(decision.trace.error?.at).toBe('rule block-bad-signer')
  })

  it('a match field the request lacks is an error too, not a non-match', () => {
    const policy = compile(`
version: 1
${DEFAULTS}
tx_signing:
  - id: block-signer
    match: { signer_id: compromised }
    action: REJECT
  - id: approve
    action: APPROVE
`)
    const decision = policy.evaluate(txInput('eth-transfer-signing', { signerId: undefined }), new Map())
    expect(decision).toMatchObject({ action: 'REJECT', ruleId: null })
    expect(decision.trace.error?.message).toBe('match field signer_id is absent from the request')
  })

  it('the fee is not there in the approval stage: reading it at signing without one fails closed', () => {
    const policy = compile(`
version: 1
${DEFAULTS}
tx_signing:
  - id: fee-ok
    when: fee < decimal('0.01')
    action: APPROVE
`)
    const withoutFee = txInput('btc-one-time-address', { fee: undefined })
    expect(withoutFee.kind).toBe('tx_signing')
    expect(policy.evaluate(withoutFee, new Map()).trace.error?.message).toMatch(/fee/)
  })

  it('evaluate never throws, even for an input that is not a request', () => {
    const policy = compile(LIMIT_POLICY)
    const garbage = { kind: 'tx_signing', request: { requestId: 'x' }, now: NOW } as never
    const decision = policy.evaluate(garbage, new Map())
    expect(decision).toMatchObject({ action: 'REJECT', ruleId: null })
    expect(decision.trace.decided_by).toBe('error')
    expect(() => policy.velocityProbes(garbage)).toThrow(/transaction request/)
    for (const nothing of [null, undefined, {}, { kind: 'nonsense', request: null, now: 'later' }]) {
      expect(policy.evaluate(nothing as never, new Map())).toMatchObject({ action: 'REJECT', ruleId: null })
    }
  })

  it('an invalid decision time fails closed (time-based conditions and list ages cannot be judged)', () => {
    const policy = compile(LIMIT_POLICY)
    const decision = policy.evaluate({ ...usdInput(1), now: new Date('not a date') }, new Map())
    expect(decision).toMatchObject({ action: 'REJECT', ruleId: null })
    expect(decision.trace).toMatchObject({
      now: 'invalid',
      error: { at: 'request', message: 'the decision time is not a valid date' },
    })
  })

  it('a USD amount beyond exact cents is refused by velocityProbes and fails closed in evaluate', () => {
    const policy = compile(LIMIT_POLICY)
    const input = usdInput(1e300)
    expect(() => policy.velocityProbes(input)).toThrow(
      expect.objectContaining({ code: 'CS_POLICY_EVALUATION' }),
    )
    expect(policy.evaluate(input, new Map()).action).toBe('REJECT')
  })
})

describe('amounts and time', () => {
  it('native amounts compare exactly beyond 2^53 base units', () => {
    const policy = compile(`
version: 1
${DEFAULTS}
tx_signing:
  - id: under-limit
    when: amount <= decimal('9007199.254740993')
    action: APPROVE
`)
    const at = (amountStr: string) =>
      policy.evaluate(txInput('eth-transfer-signing', { amountStr }), new Map()).action
    expect(at('9007199.254740993')).toBe('APPROVE')
    expect(at('9007199.254740994')).toBe('REJECT')
    expect(at('9007199.2547409930000')).toBe('APPROVE')
  })

  it('one one-time destination makes the whole request one-time, whatever the top-level type says', () => {
    const policy = compile(`
version: 1
${DEFAULTS}
tx_signing:
  - { id: whitelisted, when: dest.whitelisted && !dest.one_time, action: APPROVE }
`)
    const base = loadTxFixture('multi-destination')
    const [first, second] = base.destinations as Record<string, unknown>[]
    const hidden = txInput(
      'multi-destination',
      { destinations: [first, { ...second, dstAddressType: 'ONE_TIME' }] },
      'tx_signing',
    )
    const decision = policy.evaluate(hidden, new Map())
    expect(decision.action).toBe('REJECT')
    expect(decision.trace.rules[0]!.values).toEqual({ 'dest.one_time': true, 'dest.whitelisted': false })
    expect(policy.evaluate(txInput('multi-destination', {}, 'tx_signing'), new Map()).action).toBe('APPROVE')
  })

  it('the deprecated float fields are never read', () => {
    const policy = compile(`
version: 1
${DEFAULTS}
tx_signing:
  - id: one-eth-max
    when: amount <= decimal('1.25') && amount_usd < 5000.0
    action: APPROVE
`)
    const lying = txInput('eth-transfer-signing', { amount: 0.0001, requestedAmount: 0.0001 })
    expect(policy.evaluate(lying, new Map()).action).toBe('APPROVE')
    const big = txInput('eth-transfer-signing', { amount: 0.0001, amountStr: '1.250000000000000001' })
    expect(policy.evaluate(big, new Map()).action).toBe('REJECT')
  })

  it('time of day and weekday are read in the policy time zone', () => {
    const policy = compile(`
version: 1
timezone: America/New_York
${DEFAULTS}
tx_signing:
  - id: office-hours
    when: time.hour >= 9 && time.hour < 17 && time.weekday >= 1 && time.weekday <= 5
    action: APPROVE
`)
    const at = (iso: string) =>
      policy.evaluate({ ...txInput('eth-transfer-signing'), now: new Date(iso) }, new Map())
    // 14:00Z is 09:00 in New York in November (EST); 13:59Z is 08:59.
    expect(at('2026-11-24T14:00:00Z').action).toBe('APPROVE')
    expect(at('2026-11-24T13:59:00Z').action).toBe('REJECT')
    expect(at('2026-11-28T15:00:00Z').action).toBe('REJECT') // Saturday
    expect(at('2026-11-24T14:00:00Z').trace.rules[0]!.values).toMatchObject({
      'time.hour': 9,
      'time.weekday': 2,
    })
  })

  it('a list file older than its max_age fails conditions reading it closed', () => {
    const dir = policyDir()
    writeFileSync(join(dir, 'allowed.json'), JSON.stringify(['0x5dC69B1Fbb13Bafd09af88a782F0F285772Ad5f8']))
    const listed = new Date('2026-11-20T10:00:00Z')
    utimesSync(join(dir, 'allowed.json'), listed, listed)
    const policy = compile(
      `
version: 1
${DEFAULTS}
lists:
  allowed: { file: allowed.json, max_age: 24h }
tx_signing:
  - id: allowed-destination
    when: dest.address in lists.allowed
    action: APPROVE
`,
      dir,
    )
    const input = txInput('eth-transfer-signing')
    const fresh = policy.evaluate({ ...input, now: new Date('2026-11-21T09:00:00Z') }, new Map())
    expect(fresh).toMatchObject({ action: 'APPROVE', ruleId: 'allowed-destination' })
    // The trace shows the value the condition read: the address in its normalized spelling.
    expect(fresh.trace.rules[0]!.values).toEqual({
      'dest.address': '0x5dc69b1fbb13bafd09af88a782f0f285772ad5f8',
      'lists.allowed': '[list of 1]',
    })
    const stale = policy.evaluate({ ...input, now: new Date('2026-11-21T11:00:00Z') }, new Map())
    expect(stale).toMatchObject({ action: 'REJECT', ruleId: null })
    expect(stale.trace.error).toEqual({
      at: 'rule allowed-destination',
      message: 'list allowed is older than its max_age',
    })
  })
})

describe('holds', () => {
  it('a rule with require answers RETRY and carries the quorum', () => {
    const policy = compile(`
version: 1
${DEFAULTS}
tx_signing:
  - id: one-time
    match: { dest.address_type: ONE_TIME }
    require: { quorum: 2, approvers: [alice, bob, carol], ttl: 50m }
`)
    const decision = policy.evaluate(txInput('btc-one-time-address'), new Map())
    expect(decision).toMatchObject({
      action: 'RETRY',
      ruleId: 'one-time',
      require: { quorum: 2, approvers: ['alice', 'bob', 'carol'], ttlMs: 3_000_000 },
    })
    expect(policy.evaluate(txInput('eth-transfer-signing'), new Map())).not.toHaveProperty('require')
  })
})
