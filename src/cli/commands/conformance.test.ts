import { afterEach, describe, expect, it } from 'vitest'
import { CONFORMANCE_CHECKS } from '../../callback-client/index.js'
import { KEY_ARGS, runCli } from '../../../test/conformance/cli-support.js'
import { Flaw, startTestHandler } from '../../../test/conformance/test-handler.js'
import { testKeyPair } from '../../../test/support/keys.js'

const open: { close(): Promise<void> }[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((server) => server.close()))
})

async function handlerUrl(flaw?: Flaw): Promise<string> {
  const server = await startTestHandler({
    cosignerPublicKey: testKeyPair('cosigner').publicKey,
    handlerPrivateKey: testKeyPair('handler').privateKey,
    ...(flaw === undefined ? {} : { flaw }),
  })
  open.push(server)
  return server.url
}

describe('countersign conformance', () => {
  it('prints a table of PASS rows and exits 0 for a correct handler', async () => {
    const { code, out } = await runCli(['conformance', '--url', await handlerUrl(), ...KEY_ARGS])
    expect(code).toBe(0)
    expect(out[0]).toMatch(/^CHECK\s+RESULT\s+REASON$/)
    expect(out.slice(1, -1).map((line) => line.split(/\s+/).slice(0, 2))).toEqual(
      CONFORMANCE_CHECKS.map((check) => [check.id, 'PASS']),
    )
    expect(out.at(-1)).toBe(
      `${CONFORMANCE_CHECKS.length} checks: ${CONFORMANCE_CHECKS.length} PASS, 0 FAIL, 0 SKIP`,
    )
  })

  it('exits 1 and names the failing check for a broken handler', async () => {
    const { code, out } = await runCli([
      'conformance',
      '--url',
      await handlerUrl(Flaw.wrongRequestId),
      ...KEY_ARGS,
      '--json',
    ])
    expect(code).toBe(1)
    const report = JSON.parse(out[0]!) as {
      passed: boolean
      results: { id: string; status: string; reason: string }[]
    }
    expect(report.passed).toBe(false)
    expect(report.results.filter((result) => result.status === 'FAIL')).toEqual([
      expect.objectContaining({ id: 'request-id-echoed', reason: expect.stringMatching(/-other"$/) }),
    ])
  })

  it('exits 2 on a key file it cannot read', async () => {
    const { code, err } = await runCli([
      'conformance',
      '--url',
      'http://127.0.0.1:9',
      '--cosigner-key',
      'nope.key',
      '--handler-pubkey',
      'handler.pub',
    ])
    expect(code).toBe(2)
    expect(err).toEqual([expect.stringMatching(/^error: cannot read .*nope\.key/)])
  })
})
