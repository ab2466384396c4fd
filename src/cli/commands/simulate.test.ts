import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { KEY_ARGS, keyDir, runCli } from '../../../test/conformance/cli-support.js'
import { Flaw, startTestHandler, type TestHandlerOptions } from '../../../test/conformance/test-handler.js'
import { testKeyPair } from '../../../test/support/keys.js'
import { makeSelfSignedCertificate } from '../../../test/support/tls.js'
import { loadTxFixture } from '../../testing/index.js'

const open: { close(): Promise<void> }[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((server) => server.close()))
})

async function handler(options: Partial<TestHandlerOptions> = {}) {
  const server = await startTestHandler({
    cosignerPublicKey: testKeyPair('cosigner').publicKey,
    handlerPrivateKey: testKeyPair('handler').privateKey,
    ...options,
  })
  open.push(server)
  return server
}

const simulate = (url: string, ...args: string[]) => runCli(['simulate', '--url', url, ...KEY_ARGS, ...args])

describe('countersign simulate', () => {
  it('prints the exchange and the outcome, exits 0 on APPROVE, and never prints a token or key', async () => {
    const server = await handler()
    const { code, out, err } = await simulate(server.url, '--fixture', 'eth-transfer-signing')
    expect(code).toBe(0)
    expect(err).toEqual([])
    expect(out[0]).toMatch(/^tx request [0-9a-f-]{36} \(jwt mode\)$/)
    expect(out[1]).toMatch(
      /^#1 POST http:\/\/127\.0\.0\.1:\d+\/v2\/tx_sign_request → HTTP 200 APPROVE in \d+ ms$/,
    )
    expect(out.at(-1)).toBe('outcome: APPROVE')
    expect(out.join('\n')).not.toMatch(/eyJ|PRIVATE KEY/)
  })

  it('names the likely causes of a 401, the signerId first, rather than a transport error alone', async () => {
    const server = await handler({ cosignerPublicKey: testKeyPair('stranger').publicKey })
    const fixtureSigner = String(loadTxFixture('eth-transfer-signing').signerId)
    const { code, out } = await simulate(server.url, '--fixture', 'eth-transfer-signing')
    expect(code).toBe(3)
    expect(out.at(-2)).toMatch(/^outcome: the exchange failed \(CS_CALLBACK_TRANSPORT\).*401/)
    expect(out.at(-1)).toBe(
      `likely causes of the 401 (the handler refused the request's authentication; nothing failed in transit): no --signer-id was given, so the payload names the fixture's API user ${fixtureSigner}, which your handler may not know: pass --signer-id; --cosigner-key is not a co-signer key the handler trusts; the two clocks disagree`,
    )
    const named = await simulate(server.url, '--fixture', 'eth-transfer-signing', '--signer-id', 'treasury')
    expect(named.out.at(-1)).toMatch(/: the handler has no API user treasury; --cosigner-key is not/)
  })

  it('shows RETRY, then APPROVE once a human approves the held request between retries', async () => {
    const server = await handler({
      hold: true,
      onDelivery: (requestId, count, self) => {
        if (count === 3) self.release(requestId) // the approver acts before the third delivery is answered
      },
    })
    const { code, out } = await simulate(
      server.url,
      '--fixture',
      'btc-one-time-address',
      '--retry-interval',
      '1ms',
    )
    expect(code).toBe(0)
    expect(
      out.filter((line) => line.startsWith('#')).map((line) => /HTTP 200 (\w+)/.exec(line)?.[1]),
    ).toEqual(['RETRY', 'RETRY', 'APPROVE'])
    expect(
      out.filter((line) => line.includes('waiting 1ms before sending the identical request again')),
    ).toHaveLength(2)
  })

  it('exits 1 when every attempt answers RETRY, after max-retries', async () => {
    const server = await handler({ hold: true })
    const { code, out } = await simulate(
      server.url,
      '--fixture',
      'add-user',
      '--retry-interval',
      '1ms',
      '--max-retries',
      '2',
    )
    expect(code).toBe(1)
    expect(out.at(-1)).toBe('outcome: RETRY on all 3 attempts; a co-signer gives up and the request fails')
  })

  it('exits 1 on REJECT: a replayed requestId with another payload', async () => {
    const server = await handler()
    expect(
      (await simulate(server.url, '--fixture', 'eth-transfer-approval', '--request-id', 'req-42')).code,
    ).toBe(0)
    const { code, out } = await simulate(
      server.url,
      '--fixture',
      'eth-transfer-signing',
      '--request-id',
      'req-42',
    )
    expect(code).toBe(1)
    expect(out.at(-1)).toBe('outcome: REJECT (altered)')
  })

  it('exits 3 on a protocol violation: IGNORE to a signing request', async () => {
    const server = await handler({ flaw: Flaw.ignoresEverything })
    const { code, out } = await simulate(server.url, '--fixture', 'eth-transfer-signing')
    expect(code).toBe(3)
    expect(out.at(-1)).toBe(
      'outcome: the exchange failed (CS_CALLBACK_PROTOCOL): IGNORE is not a valid answer to a tx_signing request',
    )
  })

  it('sends a payload file on the route --kind names, and prints JSON with --json', async () => {
    const server = await handler()
    const file = join(keyDir, 'policy-change.json')
    writeFileSync(file, JSON.stringify({ requestId: 'cfg-1', type: 'POLICY_APPROVAL', extraInfo: {} }))
    const { code, out } = await simulate(
      server.url,
      '--payload',
      'policy-change.json',
      '--kind',
      'config',
      '--signer-id',
      'api-2',
      '--json',
    )
    expect(code).toBe(0)
    expect(out).toHaveLength(1)
    const report = JSON.parse(out[0]!) as {
      route: string
      requestId: string
      outcome: unknown
      transcript: { url: string }[]
    }
    expect(report).toMatchObject({ route: 'config', outcome: { type: 'decided', action: 'APPROVE' } })
    expect(report.requestId).toMatch(/^[0-9a-f-]{36}$/)
    expect(report.transcript[0]!.url).toMatch(/\/v2\/config_change_sign_request$/)
  })

  it('gives a payload file a fresh requestId and txId each run, so one file sends two requests', async () => {
    const server = await handler()
    const file = join(keyDir, 'transfer.json')
    const template = loadTxFixture('eth-transfer-approval')
    delete template.requestId
    delete template.txId
    writeFileSync(file, JSON.stringify({ ...template, requestId: 'from-file', txId: 'from-file' }))
    const runs = [await simulate(server.url, '--payload', 'transfer.json', '--json')]
    writeFileSync(file, JSON.stringify(template)) // no requestId at all
    runs.push(await simulate(server.url, '--payload', 'transfer.json', '--json'))
    const reports = runs.map(({ out }) => JSON.parse(out[0]!) as { requestId: string; outcome: unknown })
    for (const report of reports) {
      expect(report.requestId).toMatch(/^[0-9a-f-]{36}$/)
      expect(report.outcome).toEqual({ type: 'decided', action: 'APPROVE' })
    }
    expect(reports[0]!.requestId).not.toBe(reports[1]!.requestId)
    expect(server.deliveries.has('from-file')).toBe(false)
    const pinned = await simulate(server.url, '--payload', 'transfer.json', '--request-id', 'req-9', '--json')
    expect(JSON.parse(pinned.out[0]!)).toMatchObject({ requestId: 'req-9' })
  })

  it.each([
    [['--fixture', 'doge'], /^error: unknown fixture "doge"; choose one of: btc-one-time-address, /],
    [
      ['--fixture', 'add-user', '--payload', 'x.json'],
      /^error: give exactly one of --payload FILE or --fixture NAME$/,
    ],
    [['--fixture', 'add-user', '--kind', 'tx'], /^error: fixture "add-user" is a config request, not tx$/],
    [['--payload', 'missing.json'], /^error: cannot use --payload missing.json: the file cannot be read$/],
    [
      ['--fixture', 'add-user', '--retry-interval', 'soon'],
      /^error: --retry-interval "soon" is not a duration/,
    ],
    [
      ['--fixture', 'add-user', '--mode', 'certificate'],
      /^error: certificate mode sends plain JSON and needs an https:\/\/ handler URL$/,
    ],
  ])('exits 2 with one clear line on unusable input %j', async (args, message) => {
    const { code, err } = await simulate('http://127.0.0.1:9', ...args)
    expect(code).toBe(2)
    expect(err).toHaveLength(1)
    expect(err[0]).toMatch(message)
  })

  it('exits 2 naming the file when a key cannot be used', async () => {
    const { code, err } = await runCli([
      'simulate',
      '--url',
      'http://127.0.0.1:9',
      '--cosigner-key',
      'cosigner.pub',
      '--handler-pubkey',
      'handler.pub',
      '--fixture',
      'add-user',
    ])
    expect(code).toBe(2)
    expect(err).toEqual([
      expect.stringMatching(/^error: the co-signer key .*cosigner\.pub could not be read/),
    ])
  })
})

describe('countersign simulate against a JWT-mode handler on a self-signed certificate', () => {
  const tls = makeSelfSignedCertificate(mkdtempSync(join(tmpdir(), 'cs-cli-simulate-tls-')))

  it('is refused as untrusted without --ca, and APPROVEd with --ca naming the certificate', async () => {
    const server = await handler({ tls })
    const untrusted = await simulate(server.url, '--fixture', 'eth-transfer-approval')
    expect(untrusted.code).toBe(3)
    expect(untrusted.out.at(-1)).toMatch(/CS_CALLBACK_TRANSPORT.*(SELF_SIGNED|certificate)/i)
    const trusted = await simulate(server.url, '--fixture', 'eth-transfer-approval', '--ca', tls.cert)
    expect(trusted.out.at(-1)).toBe('outcome: APPROVE')
    expect(trusted.code).toBe(0)
  })
})
