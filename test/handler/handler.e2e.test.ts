import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CONFIG_FIXTURES, TX_FIXTURES, loadConfigFixture, loadTxFixture } from '../../src/testing/index.js'
import {
  alterPayload,
  forgeAlgNone,
  forgeHs256WithPublicKey,
  forgePs256,
  truncate,
} from '../../src/testing/index.js'
import { testKeyPair } from '../support/keys.js'
import { signCallbackRequest, verifyCallbackResponse } from '../../src/protocol/index.js'
import { CERT_SIGNER_ID, startTestHandler, transferOfUsd, type TestHandler } from './support.js'

/** A fixture with a fresh requestId, so tests never collide on idempotency. */
function fresh(name: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const requestId = randomUUID()
  return { ...loadTxFixture(name), requestId, txId: requestId, ...overrides }
}

function freshConfig(name: string): Record<string, unknown> {
  return { ...loadConfigFixture(name), requestId: randomUUID() }
}

describe('callback handler over HTTP (JWT mode)', () => {
  let h: TestHandler
  beforeAll(async () => {
    h = await startTestHandler()
  })
  afterAll(async () => h.close())

  const decide = async (route: 'tx' | 'config', payload: Record<string, unknown>) => {
    const reply = await h.send(route, payload)
    expect(reply.status).toBe(200)
    expect(reply.contentType).toMatch(/^text\/plain/)
    const response = await verifyCallbackResponse(reply.body, h.handlerKeys.publicKey)
    expect(response.requestId).toBe(payload.requestId)
    return response
  }

  it('approves the approval stage of a whitelisted ETH transfer, signed with the handler key', async () => {
    expect(await decide('tx', fresh('eth-transfer-approval'))).toEqual({
      action: 'APPROVE',
      requestId: expect.any(String),
    })
  })

  it('decides the signing stage by the signing rules (small whitelisted transfer approved)', async () => {
    expect((await decide('tx', fresh('eth-transfer-signing'))).action).toBe('APPROVE')
  })

  it('holds a one-time-address transfer for approvers: RETRY', async () => {
    expect((await decide('tx', fresh('btc-one-time-address'))).action).toBe('RETRY')
  })

  it("rejects with the matching rule's reason as rejectionReason", async () => {
    const payload = transferOfUsd(60_000)
    expect(await decide('tx', payload)).toEqual({
      action: 'REJECT',
      requestId: payload.requestId,
      rejectionReason: 'over 50,000 USD per vault per 24h',
    })
  })

  it("rejects with the default's reason when no rule matches", async () => {
    // A fee marks the signing stage; 15,000 USD to whitelisted addresses is above the small-transfer rule.
    const payload = fresh('multi-destination', { fee: '0.5' })
    expect(await decide('tx', payload)).toEqual({
      action: 'REJECT',
      requestId: payload.requestId,
      rejectionReason: 'no rule matched; default REJECT for tx_signing',
    })
  })

  /** What TEST_POLICY decides for each fixture, and by which rule. */
  const FIXTURE_ACTIONS: Readonly<Record<string, string>> = {
    'btc-one-time-address': 'RETRY', // one-time-hold: waits for 2 approvers
    'eth-transfer-approval': 'APPROVE', // approve-whitelisted
    'eth-transfer-signing': 'APPROVE', // small-whitelisted (4,187.50 USD)
    'exchange-source': 'APPROVE', // approval stage, approve-whitelisted
    'multi-destination': 'APPROVE', // approval stage, approve-whitelisted
  }

  it('knows the expected answer of every fixture', () => {
    expect(Object.keys(FIXTURE_ACTIONS).sort()).toEqual([...TX_FIXTURES].sort())
  })

  it.each(TX_FIXTURES)('answers the fixture %s with the action its rule gives', async (name) => {
    const payload = fresh(name)
    expect(await decide('tx', payload)).toEqual({
      action: FIXTURE_ACTIONS[name],
      requestId: payload.requestId,
    })
  })

  it.each(CONFIG_FIXTURES)('answers the configuration change %s', async (name) => {
    const payload = freshConfig(name)
    const response = await decide('config', payload)
    expect(response.action).toBe(payload.type === 'CHANGE_QUORUM_THRESHOLD' ? 'REJECT' : 'APPROVE')
  })

  it('answers a retry with the same action and reason, and two concurrent deliveries with one decision', async () => {
    const payload = fresh('multi-destination', { fee: '0.5' })
    const token = await signCallbackRequest(payload, h.cosigner.privateKey)
    const replies = await Promise.all([h.post('tx', token), h.post('tx', token), h.post('tx', token)])
    const responses = await Promise.all(
      replies.map((reply) => verifyCallbackResponse(reply.body, h.handlerKeys.publicKey)),
    )
    expect(new Set(responses.map((response) => JSON.stringify(response))).size).toBe(1)
    const decided = h.logs.filter((line) => line.requestId === payload.requestId && line.msg === 'decision')
    expect(decided.map((line) => line.outcome).sort()).toEqual(['decided', 'repeated', 'repeated'])
  })

  it('tolerates a JSON-quoted token with whitespace and any content type', async () => {
    const payload = fresh('eth-transfer-approval')
    const token = await signCallbackRequest(payload, h.cosigner.privateKey)
    const reply = await h.post('tx', `  "${token}"\n`)
    expect((await verifyCallbackResponse(reply.body, h.handlerKeys.publicKey)).action).toBe('APPROVE')
  })

  it('answers a validly signed but malformed payload with a signed REJECT naming the problem', async () => {
    const payload = fresh('eth-transfer-signing')
    delete payload.destinations
    const response = await decide('tx', payload)
    expect(response.action).toBe('REJECT')
    expect(response.rejectionReason).toMatch(/destinations/)
  })

  it('answers 400 to a signed payload without requestId', async () => {
    const payload = fresh('eth-transfer-signing')
    delete payload.requestId
    expect((await h.send('tx', payload)).status).toBe(400)
  })

  it('refuses a request for an API user it does not know (401)', async () => {
    expect((await h.send('tx', fresh('eth-transfer-approval', { signerId: 'unknown-user' }))).status).toBe(
      401,
    )
  })

  it('reports health, readiness and metrics', async () => {
    const get = (path: string) => fetch(`${h.url}${path}`)
    expect((await get('/healthz')).status).toBe(200)
    expect(await (await get('/readyz')).json()).toEqual({ status: 'ready', policy: '7', store: true })
    const metrics = await (await get('/metrics')).text()
    expect(metrics).toMatch(
      /countersign_decisions_total\{action="APPROVE",kind="tx_signing",rule="[^"]*",outcome="decided"\} \d+/,
    )
    expect(metrics).toMatch(/countersign_decision_latency_seconds_bucket/)
    expect(metrics).toMatch(/countersign_auth_failures_total\{reason="unknown-api-user"\} 1/)
  })
})

describe('callback handler attacks', () => {
  let h: TestHandler
  beforeAll(async () => {
    h = await startTestHandler()
  })
  afterAll(async () => h.close())

  const approvable = () => fresh('eth-transfer-approval')

  it('refuses a token signed with another co-signer key', async () => {
    const token = await signCallbackRequest(approvable(), testKeyPair('stranger').privateKey)
    expect(await h.post('tx', token)).toMatchObject({ status: 401, body: '' })
  })

  it('refuses alg none', async () => {
    expect(await h.post('tx', forgeAlgNone(approvable()))).toMatchObject({ status: 401, body: '' })
  })

  it('refuses HS256 signed with the co-signer public key', async () => {
    expect(await h.post('tx', forgeHs256WithPublicKey(approvable(), h.cosigner.publicPem))).toMatchObject({
      status: 401,
      body: '',
    })
  })

  it('refuses PS256 even with the genuine key', async () => {
    expect((await h.post('tx', forgePs256(approvable(), h.cosigner.privateKey))).status).toBe(401)
  })

  it('refuses a token cut short', async () => {
    const token = await signCallbackRequest(approvable(), h.cosigner.privateKey)
    expect((await h.post('tx', truncate(token))).status).toBe(401)
    expect((await h.post('tx', token.slice(0, token.lastIndexOf('.')))).status).toBe(401)
  })

  it('refuses a payload altered after signing', async () => {
    const payload = approvable()
    const token = await signCallbackRequest(payload, h.cosigner.privateKey)
    expect((await h.post('tx', alterPayload(token, { ...payload, amountStr: '900' }))).status).toBe(401)
  })

  it('refuses an unsigned JSON body on the JWT route', async () => {
    expect((await h.post('tx', JSON.stringify(approvable()))).status).toBe(401)
  })

  it('rejects a replay of a decided requestId with a changed amount, and raises the alert', async () => {
    const payload = approvable()
    expect(
      (await verifyCallbackResponse((await h.send('tx', payload)).body, h.handlerKeys.publicKey)).action,
    ).toBe('APPROVE')
    const altered = {
      ...payload,
      amountStr: '125.000000000000000000',
      destinations: [{ ...(payload.destinations as object[])[0], amountUSD: 418750 }],
    }
    const response = await verifyCallbackResponse((await h.send('tx', altered)).body, h.handlerKeys.publicKey)
    expect(response).toMatchObject({
      action: 'REJECT',
      requestId: payload.requestId,
      rejectionReason: expect.stringMatching(/different payload/),
    })
    expect(
      h.logs.some((line) => line.alert === 'replay-altered' && line.requestId === payload.requestId),
    ).toBe(true)
    // The original request still gets its original answer.
    expect(
      (await verifyCallbackResponse((await h.send('tx', payload)).body, h.handlerKeys.publicKey)).action,
    ).toBe('APPROVE')
  })

  it('answers 413 to a 10 MiB body without reading it into a decision', async () => {
    const reply = await h.post('tx', Buffer.alloc(10 * 1024 * 1024, 'a'))
    expect(reply.status).toBe(413)
  })

  it('never logs the raw token or key material', async () => {
    const token = await signCallbackRequest(approvable(), testKeyPair('stranger').privateKey)
    await h.post('tx', token)
    const logged = JSON.stringify(h.logs)
    expect(logged).not.toContain(token.split('.')[2])
    expect(logged).not.toContain('PRIVATE KEY')
  })
})

describe('callback handler over HTTPS', () => {
  let h: TestHandler
  beforeAll(async () => {
    h = await startTestHandler({ tls: true })
  })
  afterAll(async () => h.close())

  it('serves JWT mode over TLS', async () => {
    expect(h.url).toMatch(/^https:/)
    const payload = fresh('eth-transfer-approval')
    const reply = await h.send('tx', payload)
    expect(await verifyCallbackResponse(reply.body, h.handlerKeys.publicKey)).toMatchObject({
      action: 'APPROVE',
      requestId: payload.requestId,
    })
  })

  it('serves certificate mode: plain JSON both ways on the routes without /v2', async () => {
    const payload = fresh('eth-transfer-approval', { signerId: CERT_SIGNER_ID })
    const reply = await h.post('tx', JSON.stringify(payload), 'certificate')
    expect(reply.status).toBe(200)
    expect(reply.contentType).toMatch(/^application\/json/)
    expect(JSON.parse(reply.body)).toEqual({ action: 'APPROVE', requestId: payload.requestId })
    const config = freshConfig('change-quorum-threshold')
    const configReply = await h.post(
      'config',
      JSON.stringify({ ...config, signerId: CERT_SIGNER_ID }),
      'certificate',
    )
    expect(JSON.parse(configReply.body)).toMatchObject({
      action: 'REJECT',
      requestId: config.requestId,
      rejectionReason: expect.any(String),
    })
  })

  it('refuses a JWT-mode API user on the certificate routes', async () => {
    const payload = fresh('eth-transfer-approval')
    expect((await h.post('tx', JSON.stringify(payload), 'certificate')).status).toBe(401)
  })
})
