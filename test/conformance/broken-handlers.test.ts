/**
 * The conformance suite graded against handlers whose behaviour is known: the correct reference server
 * passes everything, and each deliberately broken one fails exactly the checks named for its flaw.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CONFORMANCE_CHECKS, runConformance, type ConformanceReport } from '../../src/testing/index.js'
import { testKeyPair } from '../support/keys.js'
import { ATTACK_CHECKS } from './certificate-support.js'
import { Flaw, startTestHandler, type TestHandler } from './test-handler.js'

const cosigner = testKeyPair('cosigner')
const handler = testKeyPair('handler')
const stranger = testKeyPair('stranger')

async function grade(flaw?: Flaw, timeoutMs?: number): Promise<ConformanceReport> {
  const server: TestHandler = await startTestHandler({
    cosignerPublicKey: cosigner.publicKey,
    handlerPrivateKey: handler.privateKey,
    otherPrivateKey: stranger.privateKey,
    ...(flaw === undefined ? {} : { flaw }),
  })
  try {
    return await runConformance({
      url: server.url,
      cosignerKey: cosigner.privateKey,
      handlerPublicKey: handler.publicKey,
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    })
  } finally {
    await server.close()
  }
}

const withStatus = (report: ConformanceReport, status: string) =>
  report.results.filter((result) => result.status === status).map((result) => result.id)

describe('conformance suite against the correct reference handler', () => {
  let report: ConformanceReport
  beforeAll(async () => {
    report = await grade()
  })

  it('passes every check but the certificate-mode pin check, which it skips with the reason', () => {
    expect(withStatus(report, 'PASS')).toEqual(
      CONFORMANCE_CHECKS.map((check) => check.id).filter((id) => id !== 'tls-key-pinned'),
    )
    expect(withStatus(report, 'SKIP')).toEqual(['tls-key-pinned'])
    expect(report.results.find((r) => r.id === 'tls-key-pinned')?.reason).toBe(
      'certificate mode only: JWT-mode answers are authenticated by the handler signature',
    )
    expect(report.passed).toBe(true)
  })

  it('gives each check a one-line reason', () => {
    for (const result of report.results) expect(result.reason).toMatch(/^[^\n]+$/)
    expect(report.results.find((r) => r.id === 'forged-signature')?.reason).toBe('not approved: HTTP 401')
    expect(report.results.find((r) => r.id === 'altered-amount')?.reason).toContain('signed REJECT (altered)')
  })
})

describe.each([
  [Flaw.approvesUnverified, [...ATTACK_CHECKS, 'altered-amount']],
  [Flaw.wrongRequestId, ['request-id-echoed']],
  [Flaw.ignoresEverything, ['no-ignore-on-signing']],
  [Flaw.pascalCaseClaims, ['claim-names']],
  [Flaw.wrongSigningKey, ['signed-by-handler-key']],
])('conformance suite against a handler that %s', (flaw, expectedFailures) => {
  let report: ConformanceReport
  beforeAll(async () => {
    report = await grade(flaw)
  })

  it(`fails exactly ${expectedFailures.join(', ')}`, () => {
    expect(withStatus(report, 'FAIL')).toEqual(expectedFailures)
    expect(report.passed).toBe(false)
  })
})

describe('conformance suite against a handler that never answers configuration changes', () => {
  it('fails the route, the config-change types and the deadline checks', async () => {
    // Long enough for a loaded machine to answer the other routes, short enough that the stalls end soon.
    const report = await grade(Flaw.stallsConfigChanges, 750)
    expect(withStatus(report, 'FAIL')).toEqual(['routes-answer', 'config-change-types', 'answers-within-30s'])
    expect(report.results.find((r) => r.id === 'answers-within-30s')?.reason).toBe(
      '14 of 30 requests got no answer in time',
    )
  })
})

describe('checks that cannot pass vacuously', () => {
  let server: TestHandler
  beforeAll(async () => {
    server = await startTestHandler({
      cosignerPublicKey: stranger.publicKey, // refuses the genuine co-signer: every request gets 401
      handlerPrivateKey: handler.privateKey,
    })
  })
  afterAll(() => server.close())

  it('skips the attack checks when not even a genuine request is answered', async () => {
    const report = await runConformance({
      url: server.url,
      cosignerKey: cosigner.privateKey,
      handlerPublicKey: handler.publicKey,
    })
    expect(withStatus(report, 'FAIL')).toEqual(['routes-answer'])
    expect(withStatus(report, 'SKIP')).toContain('forged-signature')
    expect(withStatus(report, 'PASS')).toEqual(['answers-within-30s'])
  })
})
