/**
 * The conformance suite in certificate mode (plain JSON over a pinned TLS connection): the real handler
 * passes every check that means something there, a wrong pin fails the run before a byte is sent, and
 * each deliberately broken certificate-mode server fails exactly the checks named for its flaw.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CONFORMANCE_CHECKS, runConformance, type ConformanceReport } from '../../src/testing/index.js'
import { CERT_SIGNER_ID, startTestHandler as startRealHandler } from '../handler/support.js'
import { makeSelfSignedCertificate } from '../support/tls.js'
import { SIGNATURE_CHECKS, pinOf } from './certificate-support.js'
import { Flaw, startTestHandler, type TestHandler } from './test-handler.js'

const CERTIFICATE_CHECKS = CONFORMANCE_CHECKS.map((check) => check.id).filter(
  (id) => !SIGNATURE_CHECKS.includes(id),
)

const withStatus = (report: ConformanceReport, status: string) =>
  report.results.filter((result) => result.status === status).map((result) => result.id)
const reasonOf = (report: ConformanceReport, id: string) =>
  report.results.find((result) => result.id === id)?.reason

const tls = makeSelfSignedCertificate(mkdtempSync(join(tmpdir(), 'cs-conformance-tls-')))
/** Another key pair's certificate: its pin is a real SPKI hash, just not the server's. */
const otherTls = makeSelfSignedCertificate(mkdtempSync(join(tmpdir(), 'cs-conformance-other-tls-')))

const BASE_PATH = '/fireblocks/callback'

describe('certificate-mode conformance against the real handler (countersign, TLS, cert-mode-user)', () => {
  let handler: Awaited<ReturnType<typeof startRealHandler>>
  let url: string
  let pin: string
  beforeAll(async () => {
    handler = await startRealHandler({ tls: true, basePath: BASE_PATH })
    url = `${handler.url}${BASE_PATH}`
    pin = pinOf(handler.caCert!)
  })
  afterAll(() => handler.close())

  it('passes every certificate-mode check and reports the signature checks SKIP with the reason', async () => {
    const report = await runConformance({
      url,
      mode: 'certificate',
      pinnedSpkiSha256: pin,
      signerId: CERT_SIGNER_ID,
    })
    expect(report.mode).toBe('certificate')
    expect(withStatus(report, 'FAIL')).toEqual([])
    expect(withStatus(report, 'PASS')).toEqual(CERTIFICATE_CHECKS)
    expect(withStatus(report, 'SKIP')).toEqual(SIGNATURE_CHECKS)
    for (const id of SIGNATURE_CHECKS) expect(reasonOf(report, id)).toMatch(/^jwt mode only: /)
    expect(reasonOf(report, 'tls-key-pinned')).toBe(`tx and config: the key matches ${pin}`)
    expect(reasonOf(report, 'claim-names')).toBe('lower-camel JSON field names, nothing else')
    expect(reasonOf(report, 'altered-amount')).toMatch(/1000x amount: JSON REJECT/)
    expect(report.passed).toBe(true)
  })

  it('fails the run on a wrong pin, with the pin mismatch named, and grades nothing else', async () => {
    const report = await runConformance({
      url,
      mode: 'certificate',
      pinnedSpkiSha256: pinOf(otherTls.cert),
      signerId: CERT_SIGNER_ID,
    })
    expect(report.passed).toBe(false)
    expect(withStatus(report, 'FAIL')).toEqual(['routes-answer', 'tls-key-pinned'])
    expect(withStatus(report, 'PASS')).toEqual([])
    expect(reasonOf(report, 'tls-key-pinned')).toBe(
      `tx: the handler's TLS public key (SPKI SHA-256 ${pin}) does not match the pinned ${pinOf(otherTls.cert)}`,
    )
    expect(reasonOf(report, 'answers-within-30s')).toBe(
      'none of 2 requests got an answer (see routes-answer)',
    )
  })
})

async function grade(server: TestHandler, pin = pinOf(tls.cert), timeoutMs?: number) {
  return runConformance({
    url: server.url,
    mode: 'certificate',
    pinnedSpkiSha256: pin,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  })
}

async function startCertificateServer(flaw?: Flaw): Promise<TestHandler> {
  return startTestHandler({ mode: 'certificate', tls, ...(flaw === undefined ? {} : { flaw }) })
}

describe('certificate-mode conformance against the reference server', () => {
  it('passes every certificate-mode check', async () => {
    const server = await startCertificateServer()
    try {
      const report = await grade(server)
      expect(withStatus(report, 'PASS')).toEqual(CERTIFICATE_CHECKS)
      expect(withStatus(report, 'SKIP')).toEqual(SIGNATURE_CHECKS)
    } finally {
      await server.close()
    }
  })

  it('sends nothing to a server whose key does not match the pin', async () => {
    const server = await startCertificateServer()
    try {
      const report = await grade(server, pinOf(otherTls.cert))
      expect(withStatus(report, 'FAIL')).toEqual(['routes-answer', 'tls-key-pinned'])
      expect(server.deliveries.size).toBe(0)
    } finally {
      await server.close()
    }
  })
})

describe.each([
  [Flaw.wrongRequestId, ['request-id-echoed']],
  [Flaw.ignoresEverything, ['no-ignore-on-signing']],
  [Flaw.pascalCaseClaims, ['claim-names']],
  [Flaw.approvesUnverified, ['altered-amount']],
])('certificate-mode conformance against a server that %s', (flaw, expectedFailures) => {
  it(`fails exactly ${expectedFailures.join(', ')}`, async () => {
    const server = await startCertificateServer(flaw)
    try {
      const report = await grade(server)
      expect(withStatus(report, 'FAIL')).toEqual(expectedFailures)
      expect(report.passed).toBe(false)
    } finally {
      await server.close()
    }
  })
})

describe('certificate-mode conformance against a server that never answers configuration changes', () => {
  it('fails the route, the config-change types and the deadline checks', async () => {
    const server = await startCertificateServer(Flaw.stallsConfigChanges)
    try {
      // Long enough for a loaded machine to answer the other routes, short enough that the stalls end soon.
      const report = await grade(server, pinOf(tls.cert), 750)
      expect(withStatus(report, 'FAIL')).toEqual([
        'routes-answer',
        'config-change-types',
        'answers-within-30s',
      ])
    } finally {
      await server.close()
    }
  })
})
