/**
 * Both ends of Countersign against each other, as an operator runs them: `countersign handler start` in
 * development mode (built dist/, its own temp cwd), graded by `countersign conformance`, and a request held
 * by the starter policy, retried by `countersign simulate` until two humans approve it between retries.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CONFORMANCE_CHECKS } from '../../src/testing/index.js'
import { spawnCli, type CliProcess } from '../support/process.js'
import { runCli } from './cli-support.js'

const cwd = mkdtempSync(join(tmpdir(), 'cs-own-handler-'))
const keyArgs = [
  '--cosigner-key',
  join(cwd, '.countersign/keys/cosigner.key'),
  '--handler-pubkey',
  join(cwd, '.countersign/keys/handler.pub'),
  '--signer-id',
  'dev-api-user',
]
const store = `sqlite:${join(cwd, '.countersign/countersign.db')}`
let handler: CliProcess
let url: string

beforeAll(async () => {
  handler = spawnCli(['handler', 'start', '--listen', '127.0.0.1:0'], cwd)
  url = await handler.listening
})

afterAll(async () => {
  handler.child.kill('SIGTERM')
  await handler.exited
})

describe('countersign conformance against countersign handler start (development mode)', () => {
  it('prints PASS for every JWT-mode check (the certificate-mode pin check SKIPs)', async () => {
    const { code, out } = await runCli(['conformance', '--url', url, ...keyArgs])
    expect(out.slice(1, -1).filter((line) => !/^\S+\s+PASS\s/.test(line))).toEqual([
      expect.stringMatching(/^tls-key-pinned\s+SKIP\s+certificate mode only: /),
    ])
    expect(out.at(-1)).toBe(
      `${CONFORMANCE_CHECKS.length} checks: ${CONFORMANCE_CHECKS.length - 1} PASS, 0 FAIL, 1 SKIP`,
    )
    expect(code).toBe(0)
  })
})

describe('countersign simulate against a held request', () => {
  it('is answered RETRY until two approvers approve it between retries, then APPROVE', async () => {
    const requestId = `held-${Date.now()}`
    const simulation = runCli([
      'simulate',
      '--url',
      url,
      ...keyArgs,
      '--fixture',
      'btc-one-time-address',
      '--request-id',
      requestId,
      '--retry-interval',
      '200ms',
      '--max-retries',
      '100',
    ])
    // The humans: wait until the request is held, then two of alice, bob and carol approve it.
    while (!(await runCli(['approvals', 'list', '--store', store])).out.join('\n').includes(requestId)) {
      await sleep(50)
    }
    // Each approver signs with their own registered key (files in the CLI's cwd).
    for (const approver of ['alice', 'bob']) {
      const name = `${approver}-${requestId}`
      expect((await runCli(['keys', 'generate', '--for', 'approver', '--name', name])).code).toBe(0)
      expect(
        (await runCli(['approvers', 'add', approver, '--public-key', `${name}.pub`, '--store', store])).code,
      ).toBe(0)
      expect(
        (await runCli(['approvals', 'approve', requestId, '--key', `${name}.key`, '--store', store])).code,
      ).toBe(0)
    }
    const { code, out } = await simulation
    const answers = out.filter((line) => line.startsWith('#')).map((line) => /HTTP 200 (\w+)/.exec(line)?.[1])
    expect(answers.length).toBeGreaterThanOrEqual(2)
    expect(new Set(answers.slice(0, -1))).toEqual(new Set(['RETRY']))
    expect(answers.at(-1)).toBe('APPROVE')
    expect(out.at(-1)).toBe('outcome: APPROVE')
    expect(code).toBe(0)
  })
})
