/**
 * The handler as a process: a SIGKILL right after APPROVE loses nothing, SIGTERM drains and exits 0,
 * SIGHUP reloads the policy and keeps the running one when the new file is broken.
 */
import { randomUUID } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { loadTxFixture } from '../../src/testing/index.js'
import { testKeyPair } from '../support/keys.js'
import { rawExec } from '../support/databases.js'
import { spawnCli, type CliProcess } from '../support/process.js'
import { runCli } from '../support/cli.js'
import { callbackPath, signCallbackRequest, verifyCallbackResponse } from '../../src/protocol/index.js'
import { TEST_POLICY, writeConfigFolder as configFolder } from './support.js'

const cosigner = testKeyPair('cosigner')
const handlerKeys = testKeyPair('handler')
const running: CliProcess[] = []
afterEach(() => {
  for (const process of running.splice(0)) process.child.kill('SIGKILL')
})

function start(dir: string): CliProcess {
  const cli = spawnCli(['handler', 'start', '--config', 'countersign.yaml'], dir)
  running.push(cli)
  return cli
}

async function ask(url: string, payload: unknown) {
  const response = await fetch(`${url}${callbackPath('', 'jwt', 'tx')}`, {
    method: 'POST',
    body: await signCallbackRequest(payload, cosigner.privateKey),
  })
  return verifyCallbackResponse(await response.text(), handlerKeys.publicKey)
}

const fresh = () => {
  const requestId = randomUUID()
  return { ...loadTxFixture('eth-transfer-signing'), requestId, txId: requestId }
}

describe('handler process', () => {
  it('keeps an APPROVE and its audit entry across SIGKILL, and audit verify names an edited row', async () => {
    const dir = configFolder()
    const first = start(dir)
    const url = await first.listening
    const payload = fresh()
    expect((await ask(url, payload)).action).toBe('APPROVE')
    first.child.kill('SIGKILL')
    await first.exited

    const store = `sqlite:${join(dir, 'decisions.db')}`
    const verify = await runCli(['audit', 'verify', '--store', store], dir)
    expect(verify.code).toBe(0)
    expect(verify.out).toMatch(/intact: 1 entry,/)
    const exported = await runCli(['audit', 'export', '--store', store], dir)
    expect(exported.code).toBe(0)
    expect(JSON.parse(exported.outLines[0]!)).toMatchObject({
      event: 'decision',
      requestId: payload.requestId,
      body: { action: 'APPROVE', asset: 'ETH' },
    })
    expect(exported.out).not.toMatch(/PRIVATE KEY|eyJ/)

    const second = start(dir)
    const restartedUrl = await second.listening
    expect(await ask(restartedUrl, payload)).toEqual({ action: 'APPROVE', requestId: payload.requestId })
    second.child.kill('SIGTERM')
    expect(await second.exited).toBe(0)

    await rawExec(
      store,
      `UPDATE audit_log SET body_json = replace(body_json, 'APPROVE', 'REJECT') WHERE seq = 1`,
    )
    const tampered = await runCli(['audit', 'verify', '--store', store], dir)
    expect(tampered.code).toBe(1)
    expect(tampered.out).toMatch(/BROKEN at entry 1/)
  })

  it('reloads the policy on SIGHUP and keeps the running one when the new file is broken', async () => {
    const dir = configFolder()
    const cli = start(dir)
    const url = await cli.listening
    expect((await ask(url, fresh())).action).toBe('APPROVE')

    writeFileSync(join(dir, 'policy.yaml'), 'version: 8\ndefaults: [this is not a policy')
    cli.child.kill('SIGHUP')
    await expect.poll(() => cli.output()).toMatch(/policy reload refused/)
    expect((await ask(url, fresh())).action).toBe('APPROVE')

    writeFileSync(
      join(dir, 'policy.yaml'),
      TEST_POLICY.replace('version: 7', 'version: 8').replace(
        'when: amount_usd <= 10000.0',
        'when: amount_usd <= 1.0',
      ),
    )
    cli.child.kill('SIGHUP')
    await expect.poll(() => cli.output()).toMatch(/policy reloaded/)
    expect((await ask(url, fresh())).action).toBe('REJECT')
  })
})
