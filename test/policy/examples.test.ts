/**
 * Every example policy passes its own cases through the real CLI (`countersign policy test`), checks
 * clean, and a case that expects the wrong action makes the run fail.
 */
import { readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadPolicyFile } from '../../src/policy/index.js'
import { parseConfigChangeRequest, parseTxRequest, txRequestKind } from '../../src/protocol/index.js'
import { CONFIG_FIXTURES, loadConfigFixture, loadTxFixture, TX_FIXTURES } from '../../src/testing/index.js'
import { runCli } from '../support/cli.js'
import { decideWith, NOW, policyDir } from './support.js'

const ROOT = join(import.meta.dirname, '..', '..')
const EXAMPLES = join(ROOT, 'examples', 'policies')
// hub-*.yaml are the hub's transaction policies, checked by src/policy/transaction/transaction-policy.test.ts.
const POLICIES = readdirSync(EXAMPLES)
  .filter((name) => name.endsWith('.yaml') && !name.endsWith('.test.yaml') && !name.startsWith('hub-'))
  .sort()

describe('example policies', () => {
  it('include the starter, treasury and configuration-change policies, each with cases', () => {
    expect(POLICIES).toEqual(expect.arrayContaining(['starter.yaml', 'treasury.yaml', 'config-changes.yaml']))
    for (const policy of POLICIES) {
      expect(readdirSync(EXAMPLES)).toContain(policy.replace(/\.yaml$/, '.test.yaml'))
    }
  })

  it.each(POLICIES)('%s passes its cases and reaches every rule', async (policy) => {
    const result = await runCli(['policy', 'test', join('examples', 'policies', policy)], ROOT)
    expect(result.err).toBe('')
    expect(result.out).toMatch(/^(\d+) passed, 0 failed$/m)
    expect(result.out).not.toMatch(/^FAIL/m)
    expect(result.out).not.toMatch(/not reached/)
    expect(result.code).toBe(0)
  })

  it.each(POLICIES)('%s checks clean, without warnings', async (policy) => {
    const result = await runCli(['policy', 'check', join('examples', 'policies', policy)], ROOT)
    expect(result.out).toMatch(/: ok, version .*, 0 warning\(s\), digest [0-9a-f]{64}$/)
    expect(result.code).toBe(0)
  })

  it('a case that expects the wrong action fails the run with exit 1', async () => {
    const dir = policyDir()
    const cases = join(dir, 'wrong.test.yaml')
    writeFileSync(
      cases,
      [
        'now: 2026-11-21T10:00:00Z',
        'cases:',
        '  - { name: right, fixture: eth-transfer-signing, expect: { action: APPROVE } }',
        '  - { name: wrong, fixture: btc-one-time-address, expect: { action: APPROVE } }',
      ].join('\n'),
    )
    const result = await runCli(['policy', 'test', join(EXAMPLES, 'starter.yaml'), cases], ROOT)
    expect(result.code).toBe(1)
    expect(result.out).toMatch(/^PASS right/m)
    expect(result.out).toMatch(
      /^FAIL wrong — RETRY by one-time-address-hold, hold pending\n\s+action: expected APPROVE, got RETRY$/m,
    )
    expect(result.out).toMatch(/^1 passed, 1 failed$/m)
  })
})

describe('the starter policy (development-mode default)', () => {
  const starter = loadPolicyFile(join(EXAMPLES, 'starter.yaml'))

  it.each(TX_FIXTURES)('decides transaction fixture %s in both stages without error', (name) => {
    const request = parseTxRequest(loadTxFixture(name))
    for (const kind of new Set([txRequestKind(request), 'tx_approval', 'tx_signing'] as const)) {
      const input = { kind, request, now: NOW }
      const decision = decideWith(starter, input)
      expect(decision.trace.error, `${name} as ${kind}`).toBeUndefined()
      expect(decision.trace.decided_by).not.toBe('error')
    }
  })

  it.each(CONFIG_FIXTURES)('decides configuration fixture %s without error', (name) => {
    const input = {
      kind: 'config_change' as const,
      request: parseConfigChangeRequest(loadConfigFixture(name)),
      now: NOW,
    }
    expect(starter.evaluate(input, new Map()).trace.error).toBeUndefined()
  })

  it('approves the small whitelisted transfer, holds the one-time address for 2 of 3, rejects the rest', () => {
    const decide = (name: string) => {
      const request = parseTxRequest(loadTxFixture(name))
      return starter.evaluate({ kind: 'tx_signing', request, now: NOW }, new Map())
    }
    expect(decide('eth-transfer-signing').action).toBe('APPROVE')
    expect(decide('btc-one-time-address')).toMatchObject({
      action: 'RETRY',
      require: { quorum: 2, approvers: ['alice', 'bob', 'carol'], ttlMs: 50 * 60_000 },
    })
    expect(decide('multi-destination').action).toBe('REJECT')
    expect(decide('exchange-source').action).toBe('REJECT')
  })
})
