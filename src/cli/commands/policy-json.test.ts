import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli } from '../../../test/support/cli.js'
import { FIXTURES_DIR } from '../../testing/index.js'

/** `--json` on the policy tooling: the facts of the text output, as one JSON value a script can read. */
const ROOT = join(import.meta.dirname, '..', '..', '..')
const EXAMPLES = join(ROOT, 'examples', 'policies')

const json = async (args: string[]) => {
  const result = await runCli([...args, '--json'], ROOT)
  return { code: result.code, value: JSON.parse(result.out) as Record<string, unknown>, err: result.err }
}

describe('policy commands with --json', () => {
  it('policy check: ok, version, digest and diagnostics', async () => {
    const { code, value } = await json([
      'policy',
      'check',
      join(EXAMPLES, 'treasury.yaml'),
      '--now',
      '2026-01-01T00:00:00Z',
    ])
    expect(code).toBe(0)
    expect(value).toMatchObject({
      ok: true,
      version: '2026.11.1',
      digest: expect.stringMatching(/^[0-9a-f]{64}$/),
    })
    expect(Array.isArray(value.diagnostics)).toBe(true)
  })

  it('policy check: a broken policy is ok=false with its errors, exit 1', async () => {
    const broken = await json(['policy', 'check', join(FIXTURES_DIR, 'tx', 'eth-transfer-signing.json')])
    expect(broken.code).toBe(1)
    expect(broken.value).toMatchObject({ ok: false, version: null })
    expect(broken.value.diagnostics).toEqual(
      expect.arrayContaining([expect.objectContaining({ severity: 'error' })]),
    )
  })

  it('policy test: counts and one entry per case', async () => {
    const { code, value } = await json(['policy', 'test', join(EXAMPLES, 'treasury.yaml')])
    expect(code).toBe(0)
    const cases = value.cases as { name: string; passed: boolean }[]
    expect(cases.length).toBeGreaterThan(2)
    expect(value).toMatchObject({ passed: cases.length, failed: 0 })
    expect(cases.every((item) => item.passed)).toBe(true)
  })

  it('policy explain: the action, rule, reason and trace', async () => {
    const { code, value } = await json([
      'policy',
      'explain',
      join(EXAMPLES, 'treasury.yaml'),
      '--request',
      join(FIXTURES_DIR, 'tx', 'eth-transfer-signing.json'),
      '--now',
      '2026-03-03T10:00:00Z',
      '--velocity',
      '{"vault_24h":{"sum_usd":49999,"count":3}}',
    ])
    expect(code).toBe(0)
    expect(value).toMatchObject({
      action: 'REJECT',
      ruleId: 'vault-daily-limit',
      reason: 'source vault would exceed 50,000 USD in 24 hours',
      require: null,
      trace: { decided_by: 'rule' },
    })
  })
})
