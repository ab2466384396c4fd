import { describe, expect, it } from 'vitest'
import type { TransactionRequest } from './request.js'
import { compileTransactionPolicy } from './transaction-policy.js'

/** The second instance of the engine: the hub's transaction policy, compiled and evaluated by the same core. */
const NOW = new Date('2026-11-24T10:00:00Z')
const OPERATIONS = '0x7F367cC41522cE07553e823bf3be79A889DEbe1B'

const POLICY = `version: 3
lists:
  blocked: ['${OPERATIONS}']
rules:
  - id: blocked-destination
    when: dest.address in lists.blocked
    action: BLOCK
    reason: destination is blocked
  - id: treasury-sweep
    match: { source.id: ['0'], dest.type: [VAULT] }
    action: ALLOW
    signers: [cosigner-a]
  - id: large
    when: amount_usd >= 10000.0 || note.matches('^(a+)+$')
    action: REQUIRE_APPROVAL
    approvers: { quorum: 2, of: [alice, bob, carol] }
  - id: small-eth
    match: { asset: [ETH] }
    when: amount < decimal('5')
    action: ALLOW
`

function transfer(overrides: Partial<TransactionRequest> = {}): TransactionRequest {
  return {
    operation: 'TRANSFER',
    assetId: 'ETH',
    amount: '1.5',
    amountUsd: 4_500,
    source: { type: 'VAULT', id: '3' },
    destination: {
      type: 'EXTERNAL_WALLET',
      id: 'w1',
      address: '0x5dC69B1Fbb13Bafd09af88a782F0F285772Ad5f8',
      addressType: 'WHITELISTED',
    },
    initiator: 'api-user-1',
    ...overrides,
  }
}

function compiled(text = POLICY) {
  const result = compileTransactionPolicy(text, { readListFile: () => ({ text: '[]', mtimeMs: 0 }) })
  if (result.policy === undefined) throw new Error(JSON.stringify(result.diagnostics))
  return result.policy
}

describe('transaction policy (second engine instance)', () => {
  it('decides each action by the first matching rule, with the trace of every rule tried', () => {
    const policy = compiled()
    expect(policy.evaluate(transfer(), NOW)).toMatchObject({ action: 'ALLOW', ruleId: 'small-eth' })
    const sweep = policy.evaluate(
      transfer({ source: { type: 'VAULT', id: '0' }, destination: { type: 'VAULT', id: '1', addressType: 'INTERNAL' } }),
      NOW,
    )
    expect(sweep).toMatchObject({ action: 'ALLOW', ruleId: 'treasury-sweep', signers: ['cosigner-a'] })
    const large = policy.evaluate(transfer({ amountUsd: 25_000 }), NOW)
    expect(large).toMatchObject({
      action: 'REQUIRE_APPROVAL',
      approvers: { quorum: 2, of: ['alice', 'bob', 'carol'] },
    })
    expect(large.trace.rules.map((rule) => [rule.id, rule.result])).toEqual([
      ['blocked-destination', false],
      ['treasury-sweep', false],
      ['large', true],
    ])
  })

  it('blocks when no rule matches: there is no configurable default', () => {
    const decision = compiled().evaluate(transfer({ assetId: 'BTC' }), NOW)
    expect(decision).toMatchObject({ action: 'BLOCK', ruleId: null, trace: { decided_by: 'default' } })
  })

  it('blocks on an evaluation error instead of skipping the rule', () => {
    const decision = compiled().evaluate(transfer({ amount: 'lots' }), NOW)
    expect(decision).toMatchObject({
      action: 'BLOCK',
      trace: { decided_by: 'error', error: { at: 'request' } },
    })
  })

  it('shares the engine guarantees: normalized addresses and linear-time matches()', () => {
    const policy = compiled()
    const cased = policy.evaluate(
      transfer({
        destination: { type: 'EXTERNAL_WALLET', address: OPERATIONS.toLowerCase(), addressType: 'WHITELISTED' },
      }),
      NOW,
    )
    expect(cased).toMatchObject({ action: 'BLOCK', ruleId: 'blocked-destination' })
    const started = performance.now()
    const hostile = policy.evaluate(transfer({ assetId: 'BTC', note: `${'a'.repeat(31)}!` }), NOW)
    expect(performance.now() - started).toBeLessThan(2_000)
    expect(hostile.action).toBe('BLOCK')
  })

  it('warns about a rule an earlier one always catches (the shared lint)', () => {
    const result = compileTransactionPolicy(
      `version: 1
rules:
  - { id: any-eth, match: { asset: [ETH] }, action: ALLOW }
  - { id: big-eth, match: { asset: [ETH] }, when: amount_usd > 1.0, action: BLOCK }
`,
      { readListFile: () => ({ text: '[]', mtimeMs: 0 }) },
    )
    expect(result.policy).toBeDefined()
    expect(result.diagnostics).toEqual([
      expect.objectContaining({
        severity: 'warning',
        path: 'rules[1]',
        line: 4,
        message: expect.stringMatching(/never reached/),
      }),
    ])
  })

  it('refuses a bad policy with every problem on its line', () => {
    const result = compileTransactionPolicy(
      `version: 1
rules:
  - id: a
    action: REQUIRE_APPROVAL
  - id: b
    match: { fee_payer: [x] }
    action: ALLOW
  - id: c
    when: amount_usd < "10"
    action: BLOCK
    signers: [x]
  - id: a
    when: note.matches('(?=x)')
    action: ALLOW
`,
      { readListFile: () => ({ text: '[]', mtimeMs: 0 }) },
    )
    expect(result.policy).toBeUndefined()
    const errors = result.diagnostics.filter((diagnostic) => diagnostic.severity === 'error')
    expect(errors.map((d) => [d.line, d.path])).toEqual([
      [12, 'rules[3].id'],
      [4, 'rules[0].action'],
      [6, 'rules[1].match.fee_payer'],
      [11, 'rules[2].signers'],
      [9, 'rules[2].when'],
      [13, 'rules[3].when'],
    ])
  })
})
