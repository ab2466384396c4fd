import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { CONFORMANCE_CHECKS } from '../../testing/index.js'
import { spkiFingerprint } from '../../keys/index.js'
import { SIGNATURE_CHECKS, pinOf } from '../../../test/conformance/certificate-support.js'
import { KEY_ARGS, runCli } from '../../../test/conformance/cli-support.js'
import { Flaw, startTestHandler } from '../../../test/conformance/test-handler.js'
import { testKeyPair } from '../../../test/support/keys.js'
import { makeSelfSignedCertificate } from '../../../test/support/tls.js'

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

const tls = makeSelfSignedCertificate(mkdtempSync(join(tmpdir(), 'cs-cli-conformance-tls-')))
const pin = pinOf(tls.cert)

async function certificateHandlerUrl(): Promise<string> {
  const server = await startTestHandler({ mode: 'certificate', tls })
  open.push(server)
  return server.url
}

const statusColumns = (out: string[]) => out.slice(1, -1).map((line) => line.split(/\s+/).slice(0, 2))

/** A JWT-mode handler over HTTPS on the self-signed certificate, as a handler on a private CA looks. */
async function jwtOverTlsUrl(): Promise<string> {
  const server = await startTestHandler({
    cosignerPublicKey: testKeyPair('cosigner').publicKey,
    handlerPrivateKey: testKeyPair('handler').privateKey,
    tls,
  })
  open.push(server)
  return server.url
}

describe('countersign conformance: a JWT-mode handler on a self-signed or private-CA certificate', () => {
  it('cannot reach it without --ca or --pin: the certificate is not trusted', async () => {
    const { code, out } = await runCli(['conformance', '--url', await jwtOverTlsUrl(), ...KEY_ARGS])
    expect(code).toBe(1)
    expect(out.find((line) => line.startsWith('routes-answer'))).toMatch(
      /FAIL.*SELF_SIGNED|FAIL.*certificate/i,
    )
  })

  it.each([
    ['--ca', () => tls.cert],
    ['--pin', () => pin],
  ])('grades it with %s, every check passing', async (flag, value) => {
    const { code, out } = await runCli([
      'conformance',
      '--url',
      await jwtOverTlsUrl(),
      ...KEY_ARGS,
      flag,
      value(),
    ])
    expect(statusColumns(out).filter(([, status]) => status === 'FAIL')).toEqual([])
    expect(code).toBe(0)
  })

  it('refuses --pin or --ca with a plain http URL', async () => {
    const { code, err } = await runCli([
      'conformance',
      '--url',
      'http://127.0.0.1:9',
      ...KEY_ARGS,
      '--pin',
      pin,
    ])
    expect(err).toEqual(['error: --pin and --ca apply to TLS: give an https:// handler URL'])
    expect(code).toBe(2)
  })
})

describe('countersign conformance', () => {
  it('prints a table of PASS rows and exits 0 for a correct handler', async () => {
    const { code, out, err } = await runCli(['conformance', '--url', await handlerUrl(), ...KEY_ARGS])
    expect(code).toBe(0)
    expect(out[0]).toMatch(/^CHECK\s+RESULT\s+REASON$/)
    // Warned before it starts that it writes decisions and reserves velocity, and told which requests.
    expect(err[0]).toMatch(
      /^warning: conformance sends real callback requests .*records a decision .*reserves velocity/,
    )
    expect(err[1]).toMatch(/^requestIds sent \(\d+\): [0-9a-f-]{36}( [0-9a-f-]{36})*$/)
    expect(statusColumns(out)).toEqual(
      CONFORMANCE_CHECKS.map((check) => [check.id, check.id === 'tls-key-pinned' ? 'SKIP' : 'PASS']),
    )
    expect(out.at(-1)).toBe(
      `${CONFORMANCE_CHECKS.length} checks: ${CONFORMANCE_CHECKS.length - 1} PASS, 0 FAIL, 1 SKIP`,
    )
  })

  it('grades a certificate-mode handler by URL and pin alone, the signature checks SKIP', async () => {
    const url = await certificateHandlerUrl()
    const { code, out } = await runCli(['conformance', '--mode', 'certificate', '--url', url, '--pin', pin])
    expect(code).toBe(0)
    expect(statusColumns(out)).toEqual(
      CONFORMANCE_CHECKS.map((check) => [check.id, SIGNATURE_CHECKS.includes(check.id) ? 'SKIP' : 'PASS']),
    )
    expect(out.find((line) => line.startsWith('alg-none'))).toMatch(/SKIP\s+jwt mode only: /)
    expect(out.at(-1)).toBe(
      `${CONFORMANCE_CHECKS.length} checks: ${CONFORMANCE_CHECKS.length - SIGNATURE_CHECKS.length} PASS, 0 FAIL, ${SIGNATURE_CHECKS.length} SKIP`,
    )
  })

  it('exits 1 on a wrong pin and says so', async () => {
    const url = await certificateHandlerUrl()
    const wrongPin = spkiFingerprint(testKeyPair('handler').publicKey)
    const { code, out } = await runCli([
      'conformance',
      '--mode',
      'certificate',
      '--url',
      url,
      '--pin',
      wrongPin,
    ])
    expect(code).toBe(1)
    expect(out.find((line) => line.startsWith('tls-key-pinned'))).toMatch(
      new RegExp(
        `FAIL\\s+tx: the handler's TLS public key \\(SPKI SHA-256 ${pin}\\) does not match the pinned ${wrongPin}$`,
      ),
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

  it.each([
    [['--mode', 'certificate'], "certificate mode needs --pin, the SHA-256 of the handler's TLS SPKI PEM"],
    [
      ['--mode', 'certificate', '--pin', 'a'.repeat(64), '--cosigner-key', 'cosigner.key'],
      'certificate mode uses no keys: drop --cosigner-key and --handler-pubkey',
    ],
    [
      ['--mode', 'certificate', '--pin', 'nope'],
      'the pin must be a SHA-256 of 64 hexadecimal digits (colons allowed)',
    ],
    [['--mode', 'jwt', ...KEY_ARGS, '--ca', 'missing.pem'], 'cannot read --ca missing.pem: ENOENT'],
    [
      ['--mode', 'jwt', ...KEY_ARGS, '--ca', 'cosigner.pub'],
      '--ca cosigner.pub holds no PEM certificate (-----BEGIN CERTIFICATE-----)',
    ],
    [['--mode', 'jws', ...KEY_ARGS], '--mode must be jwt or certificate, not "jws"'],
    [['--cosigner-key', 'cosigner.key'], 'JWT mode needs --cosigner-key and --handler-pubkey'],
  ])('exits 2 with one sentence on unusable options %j', async (args, message) => {
    const { code, err } = await runCli(['conformance', '--url', 'https://127.0.0.1:9', ...args])
    expect(err).toEqual([`error: ${message}`])
    expect(code).toBe(2)
  })

  it('exits 2 on a plain http URL in certificate mode', async () => {
    const { code, err } = await runCli([
      'conformance',
      '--mode',
      'certificate',
      '--url',
      'http://127.0.0.1:9',
      '--pin',
      pin,
    ])
    expect(err).toEqual(['error: certificate mode sends plain JSON and needs an https:// handler URL'])
    expect(code).toBe(2)
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
