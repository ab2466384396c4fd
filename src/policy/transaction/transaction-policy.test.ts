import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { velocityKey } from '../velocity.js'
import type { TransactionRequest } from './request.js'
import { compileTransactionPolicy, resolveApproval, type TransactionPolicy } from './transaction-policy.js'

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
      transfer({
        source: { type: 'VAULT', id: '0' },
        destination: { type: 'VAULT', id: '1', addressType: 'INTERNAL' },
      }),
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
        destination: {
          type: 'EXTERNAL_WALLET',
          address: OPERATIONS.toLowerCase(),
          addressType: 'WHITELISTED',
        },
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

const NO_FILES = { readListFile: () => ({ text: '[]', mtimeMs: 0 }) }

const GOVERNED = `version: 7
groups:
  traders: [trader-1, trader-2]
  treasury: [alice, bob, carol]
  exchange-ops: [ops-1]
velocity:
  - { id: vault_24h, window: 24h, group_by: [source.id], metrics: [sum_usd, count] }
rules:
  - id: one-time-blocked
    match: { dest.address_type: ONE_TIME }
    action: BLOCK
    reason: one-time addresses are not allowed
  - id: daily-limit
    when: velocity.vault_24h.sum_usd + amount_usd > 50000.0
    action: REQUIRE_APPROVAL
    approvers: { quorum: 2, of: [group:treasury, dave] }
  - id: exchange-withdrawal
    match: { source.type: [EXCHANGE_ACCOUNT] }
    action: ALLOW
    signers: [group:exchange-ops]
  - id: traders-whitelisted
    match: { initiator: [group:traders], source.type: [VAULT_ACCOUNT] }
    when: dest.whitelisted
    action: ALLOW
    signers: [group:traders]
`

function vaultTransfer(overrides: Partial<TransactionRequest> = {}): TransactionRequest {
  return transfer({ source: { type: 'VAULT_ACCOUNT', id: '3' }, initiator: 'trader-2', ...overrides })
}

/** The figures the hub's ledger holds for the series of `request`, before it. */
function history(policy: TransactionPolicy, request: TransactionRequest, sumUsd: number, count = 1) {
  const probes = policy.velocityProbes(request)
  return new Map(
    probes.map((probe) => [
      velocityKey(probe.windowId, probe.groupKey),
      { sumUsdCents: sumUsd * 100, count },
    ]),
  )
}

describe('transaction policy: groups, address types, velocity and signers', () => {
  const policy = compiled(GOVERNED)

  it('expands groups in match, approvers and signers when the policy compiles', () => {
    const allowed = policy.evaluate(vaultTransfer(), NOW, history(policy, vaultTransfer(), 0))
    expect(allowed).toMatchObject({
      action: 'ALLOW',
      ruleId: 'traders-whitelisted',
      signers: ['trader-1', 'trader-2'],
    })
    const outsider = vaultTransfer({ initiator: 'mallory' })
    expect(policy.evaluate(outsider, NOW, history(policy, outsider, 0))).toMatchObject({
      action: 'BLOCK',
      ruleId: null,
      trace: { decided_by: 'default' },
    })
  })

  it('tells one-time destinations from whitelisted and internal ones', () => {
    const oneTime = vaultTransfer({
      destination: { type: 'ONE_TIME_ADDRESS', address: OPERATIONS, addressType: 'ONE_TIME' },
    })
    expect(policy.evaluate(oneTime, NOW, history(policy, oneTime, 0))).toMatchObject({
      action: 'BLOCK',
      ruleId: 'one-time-blocked',
    })
    const internal = vaultTransfer({
      destination: { type: 'VAULT_ACCOUNT', id: '9', addressType: 'INTERNAL' },
    })
    expect(policy.evaluate(internal, NOW, history(policy, internal, 0))).toMatchObject({
      action: 'ALLOW',
      ruleId: 'traders-whitelisted',
    })
  })

  it('blocks a request whose destination classification is missing instead of reading it as whitelisted', () => {
    const unclassified = vaultTransfer({
      destination: { type: 'EXTERNAL_WALLET', address: OPERATIONS } as TransactionRequest['destination'],
    })
    expect(policy.evaluate(unclassified, NOW, history(policy, unclassified, 0))).toMatchObject({
      action: 'BLOCK',
      trace: { decided_by: 'error' },
    })
  })

  it('counts amount_usd per source vault over 24 h: below and at the limit allowed, above it held', () => {
    const request = vaultTransfer({ amountUsd: 4_500 })
    const below = policy.evaluate(request, NOW, history(policy, request, 40_000, 3))
    expect(below).toMatchObject({ action: 'ALLOW', ruleId: 'traders-whitelisted' })
    expect(below.trace.velocity).toEqual([
      { window: 'vault_24h', group: 'source.id=3', sum_usd: 40_000, count: 3, adds_usd: 4_500 },
    ])
    expect(policy.evaluate(request, NOW, history(policy, request, 45_500)).action).toBe('ALLOW')
    const above = policy.evaluate(request, NOW, history(policy, request, 45_500.01))
    expect(above).toMatchObject({
      action: 'REQUIRE_APPROVAL',
      ruleId: 'daily-limit',
      approvers: { quorum: 2, of: ['alice', 'bob', 'carol', 'dave'] },
    })
  })

  it('returns the reservations the hub must record with the transaction (none on BLOCK)', () => {
    const request = vaultTransfer({ amountUsd: 4_500.25 })
    const reservation = {
      windowId: 'vault_24h',
      groupKey: 'source.id=3',
      windowMs: 86_400_000,
      amountUsdCents: 450_025,
    }
    expect(policy.evaluate(request, NOW, history(policy, request, 0)).reservations).toEqual([
      expect.objectContaining(reservation),
    ])
    expect(policy.evaluate(request, NOW, history(policy, request, 60_000)).reservations).toEqual([
      expect.objectContaining(reservation),
    ])
    const oneTime = vaultTransfer({
      destination: { type: 'X', address: OPERATIONS, addressType: 'ONE_TIME' },
    })
    expect(policy.evaluate(oneTime, NOW, history(policy, oneTime, 0)).reservations).toBeUndefined()
  })

  it('blocks when the history of a window is not given: a store fault never reads as an empty history', () => {
    const decision = policy.evaluate(vaultTransfer(), NOW)
    expect(decision).toMatchObject({
      action: 'BLOCK',
      trace: { decided_by: 'error', error: { at: 'velocity.vault_24h' } },
    })
  })

  it('decides through prepare(): probes first, then the figures read for them', () => {
    const prepared = policy.prepare(vaultTransfer(), NOW)
    expect(prepared.probes.map((probe) => probe.groupKey)).toEqual(['source.id=3'])
    expect(prepared.decide([{ sumUsdCents: 4_900_000, count: 9 }]).action).toBe('REQUIRE_APPROVAL')
    expect(prepared.decide([]).trace.decided_by).toBe('error')
  })

  it('returns the single designated signer of an exchange withdrawal', () => {
    const request = transfer({ source: { type: 'EXCHANGE_ACCOUNT', id: 'binance-1' } })
    expect(policy.evaluate(request, NOW, history(policy, request, 0))).toMatchObject({
      action: 'ALLOW',
      ruleId: 'exchange-withdrawal',
      signers: ['ops-1'],
    })
  })

  it('resolves approvals: the quorum approves, one rejection denies, others and repeats do not count', () => {
    const approvers = { quorum: 2, of: ['alice', 'bob', 'carol'] }
    const at = NOW
    expect(resolveApproval(approvers, [{ approver: 'alice', vote: 'approve', at }])).toEqual({
      state: 'pending',
      approvals: 1,
    })
    const twice = [
      { approver: 'alice', vote: 'approve' as const, at },
      { approver: 'alice', vote: 'approve' as const, at },
      { approver: 'mallory', vote: 'approve' as const, at },
    ]
    expect(resolveApproval(approvers, twice).state).toBe('pending')
    expect(resolveApproval(approvers, [...twice, { approver: 'bob', vote: 'approve', at }]).state).toBe(
      'approved',
    )
    expect(
      resolveApproval(approvers, [
        ...twice,
        { approver: 'bob', vote: 'approve', at },
        { approver: 'carol', vote: 'reject', at },
      ]),
    ).toMatchObject({ state: 'rejected', reason: 'rejected by carol' })
  })
})

describe('transaction policy compile-time checks', () => {
  const errorsOf = (text: string) =>
    compileTransactionPolicy(text, NO_FILES).diagnostics.filter(
      (diagnostic) => diagnostic.severity === 'error',
    )

  it('refuses a rule whose exchange or fiat source names more than one designated signer', () => {
    const errors = errorsOf(`version: 1
groups:
  ops: [ops-1, ops-2]
rules:
  - id: fiat-out
    match: { source.type: [VAULT_ACCOUNT, FIAT_ACCOUNT] }
    action: ALLOW
    signers: [group:ops]
  - id: any-source
    action: ALLOW
    signers: [a, b]
  - id: vault-only
    match: { source.type: VAULT_ACCOUNT }
    action: ALLOW
    signers: [a, b]
  - id: one-exchange-signer
    match: { source.type: EXCHANGE_ACCOUNT }
    action: ALLOW
    signers: [group:ops, ops-1]
`)
    expect(errors.map((error) => [error.path, error.line])).toEqual([
      ['rules[0].signers', 8],
      ['rules[1].signers', 11],
      ['rules[3].signers', 19],
    ])
    expect(errors[0]!.message).toMatch(
      /its source can be FIAT_ACCOUNT.*names 2 \(ops-1, ops-2\); name one signer/,
    )
    expect(errors[1]!.message).toMatch(/does not constrain source\.type/)
  })

  it('refuses an unknown group, and a group outside initiator, approvers and signers, at its entry', () => {
    const errors = errorsOf(`version: 1
groups:
  traders: [t1]
rules:
  - id: a
    match: { initiator: [t0, group:trader], asset: [group:traders] }
    action: REQUIRE_APPROVAL
    approvers: { quorum: 1, of: [group:nobody] }
    signers: [group:traders]
`)
    expect(errors.map((error) => error.path)).toEqual([
      'rules[0].match.initiator[1]',
      'rules[0].match.asset[0]',
      'rules[0].approvers.of[0]',
      'rules[0].approvers.quorum',
    ])
    expect(errors[0]!.message).toBe('unknown group "trader" (declare it under `groups:`; known: traders)')
  })

  it('counts the quorum over distinct users once groups are expanded', () => {
    const errors = errorsOf(`version: 1
groups:
  treasury: [alice, bob]
rules:
  - id: a
    action: REQUIRE_APPROVAL
    approvers: { quorum: 3, of: [group:treasury, alice] }
`)
    expect(errors).toEqual([expect.objectContaining({ path: 'rules[0].approvers.quorum', line: 7 })])
  })

  it('refuses a velocity window grouped by a field transactions do not have, or an undeclared window', () => {
    const errors = errorsOf(`version: 1
velocity:
  - { id: by_fee, window: 1h, group_by: [fee_payer] }
rules:
  - { id: a, when: velocity.nope.sum_usd > 1.0, action: BLOCK }
`)
    expect(errors.map((error) => error.path)).toEqual(['velocity[0].group_by[0]', 'rules[0].when'])
  })
})

describe('the shipped example (examples/policies/hub-transactions.yaml)', () => {
  const path = join(import.meta.dirname, '..', '..', '..', 'examples', 'policies', 'hub-transactions.yaml')
  const result = compileTransactionPolicy(readFileSync(path, 'utf8'), NO_FILES)
  const policy = result.policy!
  const decide = (request: TransactionRequest, sumUsd = 0) =>
    policy.evaluate(request, NOW, history(policy, request, sumUsd))
  const trader = (overrides: Partial<TransactionRequest> = {}) =>
    vaultTransfer({ initiator: 'api-trader-1', ...overrides })

  it('compiles without a diagnostic', () => {
    expect(result.diagnostics).toEqual([])
  })

  it('reaches every rule with the decision it documents', () => {
    const decisions = [
      decide(
        trader({ destination: { type: 'EXTERNAL_WALLET', address: OPERATIONS, addressType: 'WHITELISTED' } }),
      ),
      decide(trader({ destination: { type: 'ONE_TIME_ADDRESS', address: '0x1', addressType: 'ONE_TIME' } })),
      decide(trader(), 249_000),
      decide(transfer({ source: { type: 'EXCHANGE_ACCOUNT', id: 'kraken' }, initiator: 'api-exchange-bot' })),
      decide(trader({ amountUsd: 50_000 })),
      decide(trader()),
      decide(trader({ initiator: 'someone-else' })),
    ]
    expect(decisions.map((decision) => [decision.ruleId, decision.action])).toEqual([
      ['sanctioned-destination', 'BLOCK'],
      ['no-one-time-addresses', 'BLOCK'],
      ['over-daily-limit', 'REQUIRE_APPROVAL'],
      ['exchange-withdrawal', 'ALLOW'],
      ['large-transfer', 'REQUIRE_APPROVAL'],
      ['trader-transfer', 'ALLOW'],
      [null, 'BLOCK'],
    ])
    expect(decisions[5]!.signers).toEqual(['api-trader-1', 'api-trader-2'])
    expect(decisions[2]!.approvers).toEqual({ quorum: 2, of: ['alice', 'bob', 'carol'] })
  })
})
