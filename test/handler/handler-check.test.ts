import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { runCli } from '../support/cli.js'
import { TEST_POLICY, writeConfigFolder } from './support.js'

describe('handler check', () => {
  const dirs: string[] = []
  const folder = (policy?: string) => {
    const dir = writeConfigFolder(policy === undefined ? {} : { policy })
    dirs.push(dir)
    return dir
  }
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  })

  it('answers OK, exit 0, for a configuration whose keys and policy are sound', async () => {
    const dir = folder()
    const result = await runCli(['handler', 'check', '--config', 'countersign.yaml'], dir)
    expect(result).toMatchObject({ code: 0, err: '' })
    // The test policy's fail-open config_change default is a warning, not a problem.
    expect(result.outLines).toEqual([
      expect.stringMatching(/policy\.yaml:\d+: warning defaults\.config_change/),
      'OK',
    ])
  })

  it('lists a schema problem, a bad key and a policy error in one run, exit 1', async () => {
    const dir = folder(
      TEST_POLICY.replace(
        'action: APPROVE\n    reason: whitelisted',
        'action: APPROVED\n    reason: whitelisted',
      ),
    )
    writeFileSync(join(dir, 'cosigner.pub'), 'not a key')
    writeFileSync(
      join(dir, 'countersign.yaml'),
      [
        'listen: 127.0.0.1:0',
        'logLevl: info',
        'cosigners: [{ name: primary, publicKey: cosigner.pub }]',
        'apiUsers: [{ signerId: s1, authMode: jwt, handlerKey: missing.key, default: true }]',
        'policy: policy.yaml',
      ].join('\n'),
    )
    const result = await runCli(['handler', 'check', '--config', 'countersign.yaml'], dir)
    expect(result.code).toBe(1)
    const lines = result.out.split('\n')
    expect(lines.find((line) => line.includes('logLevl'))).toMatch(/^error: .*countersign\.yaml:2:1 /)
    expect(lines.find((line) => line.includes('cosigners.0.publicKey'))).toMatch(
      /^error: .*countersign\.yaml:3:/,
    )
    expect(lines.find((line) => line.includes('apiUsers.0.handlerKey'))).toMatch(
      /ENOENT|no such file|cannot be read/i,
    )
    expect(lines.find((line) => line.includes('policy.yaml'))).toMatch(
      /policy\.yaml:\d+: error tx_approval\[0\]\.action: .*expected one of/,
    )
    expect(lines.at(-1)).toBe('4 problem(s)')

    const json = await runCli(['handler', 'check', '--config', 'countersign.yaml', '--json'], dir)
    expect(json.code).toBe(1)
    const report = JSON.parse(json.out) as { ok: boolean; problems: string[] }
    expect(report.ok).toBe(false)
    expect(report.problems).toHaveLength(4)
    expect(report.problems.some((problem) => problem.includes('logLevl'))).toBe(true)
  })

  it('names a configuration file that does not exist', async () => {
    const dir = folder()
    const result = await runCli(['handler', 'check', '--config', 'nowhere.yaml'], dir)
    expect(result.code).toBe(1)
    expect(result.out).toMatch(/nowhere\.yaml/)
  })
})
