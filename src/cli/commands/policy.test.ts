import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli, type CliResult } from '../../../test/support/cli.js'
import { FIXTURES_DIR, loadTxFixture } from '../../testing/index.js'
import { policyDir } from '../../../test/policy/support.js'

const ROOT = join(import.meta.dirname, '..', '..', '..')

const POLICY = `version: 7
defaults: { tx_approval: REJECT, tx_signing: REJECT, config_change: REJECT }
velocity:
  - { id: vault_24h, window: 24h, group_by: [source.id] }
tx_signing:
  - id: limit
    when: velocity.vault_24h.sum_usd + amount_usd > 50000.0
    action: REJECT
    reason: vault above 50,000 USD in 24h
  - id: small
    when: amount_usd <= 10000.0
    action: APPROVE
  - id: never-tested
    match: { asset: DOGE }
    action: APPROVE
`

function workspace(files: Record<string, string>): string {
  const dir = policyDir()
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  return dir
}

/** Bad input: exit 2, one line on stderr, no stack trace. */
function expectUnusable(result: CliResult, message: RegExp): void {
  expect(result.code).toBe(2)
  expect(result.err).toMatch(message)
  expect(result.err.trim().split('\n')).toHaveLength(1)
  expect(result.err).not.toMatch(/\n\s+at /)
}

describe('countersign policy check', () => {
  it('exit 0 for a valid policy, with version and digest', async () => {
    const dir = workspace({ 'p.yaml': POLICY })
    const result = await runCli(['policy', 'check', 'p.yaml'], dir)
    expect(result.code).toBe(0)
    expect(result.out).toMatch(/^p\.yaml: ok, version 7, 0 warning\(s\), digest [0-9a-f]{64}$/)
  })

  it('exit 1 and one located line per problem for an invalid policy', async () => {
    const dir = workspace({
      'p.yaml': `version: 1
defaults: { tx_approval: APPROVE, tx_signing: REJECT, config_change: REJECT }
tx_signing:
  - { id: ignore, action: IGNORE }
  - { id: typo, when: amount_usd < "5", action: APPROVE }
`,
    })
    const result = await runCli(['policy', 'check', 'p.yaml'], dir)
    expect(result.code).toBe(1)
    expect(result.out.split('\n')).toEqual([
      'p.yaml:2: warning defaults.tx_approval: fail-open default: every tx_approval request no rule matches is approved',
      'p.yaml:4: error tx_signing[0].action: IGNORE is not a valid answer to a signing request (use REJECT, or IGNORE in tx_approval)',
      'p.yaml:5: error tx_signing[1].when: type error: no such overload: double < string',
      'p.yaml: 2 error(s), 1 warning(s)',
    ])
  })

  it('exit 2 for a file that cannot be read', async () => {
    expectUnusable(
      await runCli(['policy', 'check', 'nope.yaml'], policyDir()),
      /cannot read .*nope\.yaml \(ENOENT\)/,
    )
  })
})

describe('countersign policy test', () => {
  it('finds <policy>.test.yaml, prints each case and the rules no case reached', async () => {
    const dir = workspace({
      'p.yaml': POLICY,
      'p.test.yaml': `now: 2026-11-21T10:00:00Z
cases:
  - { name: small, fixture: eth-transfer-signing, expect: { action: APPROVE, rule: small } }
  - name: over the limit
    fixture: eth-transfer-signing
    velocity: { vault_24h: { sum_usd: 46000, count: 12 } }
    expect: { action: REJECT, rule: limit }
`,
    })
    // No --fixtures, and the working directory is a scratch folder: the fixtures shipped with the package.
    const result = await runCli(['policy', 'test', 'p.yaml'], dir)
    expect(result.out.split('\n')).toEqual([
      'PASS small — APPROVE by small',
      'PASS over the limit — REJECT by limit',
      'coverage: 2/3 guards and rules decided at least one case; not reached: never-tested',
      '2 passed, 0 failed',
    ])
    expect(result.code).toBe(0)
  })

  it('takes inline requests and fixture paths relative to the cases file', async () => {
    const payload = JSON.stringify(loadTxFixture('eth-transfer-signing'))
    const dir = workspace({
      'p.yaml': POLICY,
      'big.json': JSON.stringify({ ...loadTxFixture('exchange-source'), fee: '1' }),
      'cases.yaml': `now: 2026-11-21T10:00:00Z
cases:
  - { name: inline, request: ${payload}, expect: { rule: small } }
  - { name: by path, fixture: ./big.json, expect: { action: REJECT, rule: limit } }
`,
    })
    const result = await runCli(['policy', 'test', 'p.yaml', 'cases.yaml'], dir)
    expect(result.out).toMatch(/^2 passed, 0 failed$/m)
    expect(result.code).toBe(0)
  })

  it('an unexpected evaluation error fails the case even when the action matches', async () => {
    const dir = workspace({
      'p.yaml': `version: 1
defaults: { tx_approval: REJECT, tx_signing: REJECT, config_change: REJECT }
config_change:
  - { id: asset, when: "extraInfo.asset == 'USDC'", action: APPROVE }
`,
      'p.test.yaml': `now: 2026-11-21T10:00:00Z
cases:
  - { name: add user, fixture: add-user, expect: { action: REJECT } }
`,
    })
    const result = await runCli(['policy', 'test', 'p.yaml', '--fixtures', FIXTURES_DIR], dir)
    expect(result.code).toBe(1)
    expect(result.out).toMatch(/^\s+evaluation error in rule asset: No such key: asset$/m)
  })

  it.each([
    [
      'an unknown fixture',
      'cases:\n  - { name: x, fixture: nope, now: 2026-11-21T10:00:00Z, expect: { action: APPROVE } }',
      /no fixture "nope"/,
    ],
    [
      'a case without expectation',
      'cases:\n  - { name: x, fixture: add-user, now: 2026-11-21T10:00:00Z, expect: {} }',
      /expect at least one/,
    ],
    [
      'a case without a time',
      'cases:\n  - { name: x, fixture: add-user, expect: { action: REJECT } }',
      /give `now`/,
    ],
    [
      'an invalid payload',
      'cases:\n  - { name: x, request: { requestId: r }, now: 2026-11-21T10:00:00Z, expect: { action: REJECT } }',
      /case "x": invalid payload/,
    ],
    [
      'an unknown window',
      'cases:\n  - { name: x, fixture: eth-transfer-approval, now: 2026-11-21T10:00:00Z, velocity: { vault_24h: { sum_usd: 1, count: 1 } }, expect: { action: REJECT } }',
      /window "vault_24h" does not apply/,
    ],
    ['broken YAML', 'cases: [', /is not valid YAML/],
  ])('exit 2 for %s', async (_name, cases, message) => {
    const dir = workspace({ 'p.yaml': POLICY, 'p.test.yaml': cases })
    expectUnusable(await runCli(['policy', 'test', 'p.yaml', '--fixtures', FIXTURES_DIR], dir), message)
  })

  it('exit 2 for a policy that does not load', async () => {
    const dir = workspace({ 'p.yaml': 'version: 1\n', 'p.test.yaml': 'cases: []' })
    expectUnusable(
      await runCli(['policy', 'test', 'p.yaml'], dir),
      /policy .*p\.yaml is invalid: line 1, \(root\)|defaults/,
    )
  })
})

describe('countersign policy explain', () => {
  it('prints the answer, the reason and the trace as JSON, and records nothing', async () => {
    const dir = workspace({
      'p.yaml': POLICY,
      'request.json': JSON.stringify(loadTxFixture('eth-transfer-signing')),
    })
    const result = await runCli(
      [
        'policy',
        'explain',
        'p.yaml',
        '--request',
        'request.json',
        '--now',
        '2026-11-21T10:00:00Z',
        '--velocity',
        '{"vault_24h":{"sum_usd":46000,"count":3}}',
      ],
      dir,
    )
    expect(result.code).toBe(0)
    const [summary, ...trace] = result.out.split('\n')
    expect(summary).toBe('REJECT by limit: vault above 50,000 USD in 24h')
    expect(JSON.parse(trace.join('\n'))).toMatchObject({
      kind: 'tx_signing',
      decided_by: 'rule',
      velocity: [{ window: 'vault_24h', group: 'source.id=0', sum_usd: 46000, count: 3, adds_usd: 4187.5 }],
      rules: [
        { id: 'limit', result: true, values: { amount_usd: 4187.5, 'velocity.vault_24h.sum_usd': 46000 } },
      ],
    })
  })

  it('shows the quorum a hold needs', async () => {
    const dir = workspace({ 'request.json': JSON.stringify(loadTxFixture('btc-one-time-address')) })
    const starter = join(ROOT, 'examples', 'policies', 'starter.yaml')
    const result = await runCli(['policy', 'explain', starter, '--request', 'request.json'], dir)
    expect(result.out.split('\n').slice(0, 2)).toEqual([
      'RETRY by one-time-address-hold: transfer to a one-time address, held for 2 of alice, bob, carol (hold pending)',
      'requires 2 of alice, bob, carol within 50m',
    ])
  })

  it.each([
    [['--request', 'missing.json'], /missing\.json is not a readable JSON file/],
    [['--request', 'request.json', '--now', 'yesterday'], /--now "yesterday" is not an ISO 8601 instant/],
    [
      ['--request', 'request.json', '--velocity', '{"vault_24h":{"sum_usd":"lots"}}'],
      /--velocity must map window ids/,
    ],
    [
      ['--request', 'request.json', '--kind', 'tx_whatever'],
      /Allowed choices are tx_approval, tx_signing, config_change/,
    ],
  ])('exit 2 for bad input %j', async (args, message) => {
    const dir = workspace({
      'p.yaml': POLICY,
      'request.json': JSON.stringify(loadTxFixture('eth-transfer-signing')),
    })
    expectUnusable(await runCli(['policy', 'explain', 'p.yaml', ...args], dir), message)
  })
})
