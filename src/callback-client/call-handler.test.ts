import { createPublicKey } from 'node:crypto'
import { mkdtempSync, readFileSync } from 'node:fs'
import { createServer as createHttpServer, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Flaw, startTestHandler } from '../../test/conformance/test-handler.js'
import { testKeyPair } from '../../test/support/keys.js'
import { makeSelfSignedCertificate } from '../../test/support/tls.js'
import { PayloadInvalid } from '../protocol/index.js'
import { spkiFingerprint } from '../keys/index.js'
import { MemoryRetryScheduleStore, buildFixture } from '../testing/index.js'
import { systemClock, type Clock } from '../core/index.js'
import { callHandler } from './index.js'

const cosigner = testKeyPair('cosigner')
const handler = testKeyPair('handler')
const stranger = testKeyPair('stranger')
const keys = { cosignerKey: cosigner.privateKey, handlerPublicKey: handler.publicKey }

const servers: { close(): unknown }[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

async function testHandler(
  options: { flaw?: Flaw; hold?: boolean; cosignerPublicKey?: typeof cosigner.publicKey } = {},
) {
  const server = await startTestHandler({
    cosignerPublicKey: options.cosignerPublicKey ?? cosigner.publicKey,
    handlerPrivateKey: handler.privateKey,
    otherPrivateKey: stranger.privateKey,
    ...(options.flaw === undefined ? {} : { flaw: options.flaw }),
    ...(options.hold === undefined ? {} : { hold: options.hold }),
  })
  servers.push(server)
  return server
}

/** A clock that never waits: records each sleep and lets the test act "between retries". */
function fakeClock(
  onSleep: (sleeps: number[]) => void = () => {},
  start = Date.UTC(2026, 10, 21),
): Clock & { sleeps: number[] } {
  let now = start
  const sleeps: number[] = []
  return {
    sleeps,
    ...systemClock,
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms)
      now += ms
      onSleep(sleeps)
    },
  }
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  servers.push({ close: () => new Promise((resolve) => server.close(resolve)) })
  return `127.0.0.1:${(server.address() as AddressInfo).port}`
}

describe('callHandler: the request a co-signer sends', () => {
  it('POSTs the bare RS256 token to {base}/v2/tx_sign_request with header {typ, alg} and no registered claims', async () => {
    const seen: { path?: string | undefined; body?: string } = {}
    const host = await listen(
      createHttpServer((request, reply) => {
        const chunks: Buffer[] = []
        request.on('data', (chunk: Buffer) => chunks.push(chunk))
        request.on('end', () => {
          seen.path = request.url
          seen.body = Buffer.concat(chunks).toString()
          reply.writeHead(500).end()
        })
      }),
    )
    const { payload } = buildFixture('eth-transfer-approval')
    await callHandler({ url: `http://${host}/fireblocks/callback/`, route: 'tx', payload, ...keys })
    expect(seen.path).toBe('/fireblocks/callback/v2/tx_sign_request')
    const [header, claims] = seen.body!.split('.').map((part) => Buffer.from(part, 'base64url').toString())
    expect(header).toBe('{"typ":"JWT","alg":"RS256"}')
    expect(JSON.parse(claims!)).toEqual(payload)
  })
})

describe('callHandler: outcomes', () => {
  it('returns APPROVE with a one-exchange transcript that holds no token', async () => {
    const server = await testHandler()
    const { payload } = buildFixture('eth-transfer-signing')
    const result = await callHandler({ url: server.url, route: 'tx', payload, ...keys })
    expect(result.outcome).toEqual({ type: 'decided', action: 'APPROVE' })
    expect(result.transcript).toHaveLength(1)
    expect(result.transcript[0]).toMatchObject({
      attempt: 1,
      httpStatus: 200,
      response: { action: 'APPROVE' },
    })
    expect(JSON.stringify(result.transcript)).not.toMatch(/eyJ/)
  })

  it('follows RETRY on the schedule until a human decides between retries', async () => {
    const server = await testHandler({ hold: true })
    const { payload } = buildFixture('eth-transfer-signing')
    const clock = fakeClock((sleeps) => {
      if (sleeps.length === 2) server.release(String(payload.requestId))
    })
    const result = await callHandler({
      url: server.url,
      route: 'tx',
      payload,
      ...keys,
      clock,
      retry: { intervalMs: 180_000, maxRetries: 20 },
    })
    expect(result.outcome).toEqual({ type: 'decided', action: 'APPROVE' })
    expect(result.transcript.map((exchange) => exchange.response?.action)).toEqual([
      'RETRY',
      'RETRY',
      'APPROVE',
    ])
    expect(clock.sleeps).toEqual([180_000, 180_000])
    expect(result.transcript[2]!.sentAt - result.transcript[0]!.sentAt).toBe(360_000)
    expect(server.deliveries.get(String(payload.requestId))).toBe(3)
  })

  it('gives up after maxRetries RETRY answers (maxRetries + 1 attempts)', async () => {
    const server = await testHandler({ hold: true })
    const { payload } = buildFixture('unmanaged-wallet')
    const clock = fakeClock()
    const result = await callHandler({
      url: server.url,
      route: 'config',
      payload,
      ...keys,
      clock,
      retry: { intervalMs: 5, maxRetries: 3 },
    })
    expect(result.outcome).toEqual({ type: 'retries-exhausted', attempts: 4 })
    expect(clock.sleeps).toEqual([5, 5, 5])
  })

  it('accepts IGNORE for an approval request', async () => {
    const server = await testHandler({ flaw: Flaw.ignoresEverything })
    const { payload } = buildFixture('eth-transfer-approval')
    const result = await callHandler({ url: server.url, route: 'tx', payload, ...keys })
    expect(result.outcome).toEqual({ type: 'decided', action: 'IGNORE' })
  })

  it.each([
    [Flaw.ignoresEverything, 'eth-transfer-signing', /IGNORE is not a valid answer to a tx_signing request/],
    [Flaw.wrongRequestId, 'eth-transfer-approval', /names requestId .*-other", not the/],
    [Flaw.pascalCaseClaims, 'eth-transfer-approval', /response claims are not/],
    [Flaw.wrongSigningKey, 'eth-transfer-approval', /not signed by the handler public key/],
  ])('treats %s as a protocol violation', async (flaw, fixture, message) => {
    const server = await testHandler({ flaw })
    const { payload } = buildFixture(fixture)
    const result = await callHandler({ url: server.url, route: 'tx', payload, ...keys })
    expect(result.outcome.type).toBe('failed')
    if (result.outcome.type !== 'failed') return
    expect(result.outcome.error.code).toBe('CS_CALLBACK_PROTOCOL')
    expect(result.outcome.error.message).toMatch(message)
    expect(result.transcript[0]!.error?.code).toBe('CS_CALLBACK_PROTOCOL')
  })

  it('reports a refusal (HTTP 401) as a transport failure carrying the status', async () => {
    const server = await testHandler({ cosignerPublicKey: stranger.publicKey })
    const { payload } = buildFixture('eth-transfer-approval')
    const result = await callHandler({ url: server.url, route: 'tx', payload, ...keys })
    expect(result.outcome).toMatchObject({
      type: 'failed',
      error: { code: 'CS_CALLBACK_TRANSPORT', httpStatus: 401 },
    })
  })

  it('gives up on a handler that does not answer within the deadline', async () => {
    const host = await listen(createHttpServer(() => {}))
    const { payload } = buildFixture('eth-transfer-approval')
    const result = await callHandler({ url: `http://${host}`, route: 'tx', payload, ...keys, timeoutMs: 150 })
    expect(result.outcome).toMatchObject({
      type: 'failed',
      error: { code: 'CS_CALLBACK_TRANSPORT', timedOut: true },
    })
    if (result.outcome.type === 'failed')
      expect(result.outcome.error.message).toBe('no answer from the handler within 150 ms')
  })

  it('reports an unreachable handler as a transport failure', async () => {
    const server = await testHandler()
    await server.close()
    const { payload } = buildFixture('eth-transfer-approval')
    const result = await callHandler({ url: server.url, route: 'tx', payload, ...keys })
    expect(result.outcome).toMatchObject({
      type: 'failed',
      error: { message: expect.stringContaining('ECONNREFUSED') },
    })
  })

  it('refuses to send a payload a co-signer would never send', async () => {
    const { payload } = buildFixture('eth-transfer-approval')
    delete payload.destinations
    await expect(
      callHandler({ url: 'http://127.0.0.1:9', route: 'tx', payload, ...keys }),
    ).rejects.toBeInstanceOf(PayloadInvalid)
  })
})

describe('callHandler: certificate mode', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cs-cert-'))
  const files = makeSelfSignedCertificate(dir, 'handler.test')
  const cert = readFileSync(files.cert)
  const pin = spkiFingerprint(createPublicKey(cert))

  async function jsonHandler(received: string[]) {
    const server = createHttpsServer({ key: readFileSync(files.key), cert }, (request, reply) => {
      const chunks: Buffer[] = []
      request.on('data', (chunk: Buffer) => chunks.push(chunk))
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString()
        received.push(`${request.url} ${body}`)
        const { requestId } = JSON.parse(body) as { requestId: string }
        reply
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ action: 'APPROVE', requestId }))
      })
    })
    return `https://${await listen(server)}`
  }

  it('posts plain JSON to the path without /v2 over TLS pinned on the SPKI PEM SHA-256', async () => {
    const received: string[] = []
    const url = await jsonHandler(received)
    const { payload } = buildFixture('add-user')
    const colonPin = pin.toUpperCase().match(/../g)!.join(':')
    const result = await callHandler({
      url,
      route: 'config',
      mode: 'certificate',
      payload,
      pinnedSpkiSha256: colonPin,
    })
    expect(result.outcome).toEqual({ type: 'decided', action: 'APPROVE' })
    expect(received).toEqual([`/config_change_sign_request ${JSON.stringify(payload)}`])
  })

  it('never sends the request to a server whose key does not match the pin', async () => {
    const received: string[] = []
    const url = await jsonHandler(received)
    const { payload } = buildFixture('add-user')
    const result = await callHandler({
      url,
      route: 'config',
      mode: 'certificate',
      payload,
      pinnedSpkiSha256: 'ab'.repeat(32),
    })
    expect(result.outcome).toMatchObject({
      type: 'failed',
      error: { code: 'CS_CALLBACK_TRANSPORT', message: expect.stringContaining(`SPKI SHA-256 ${pin}`) },
    })
    expect(received).toEqual([])
  })

  it('refuses certificate mode without a pin, or over plain http', async () => {
    const { payload } = buildFixture('add-user')
    await expect(
      callHandler({ url: 'https://127.0.0.1:9', route: 'config', mode: 'certificate', payload }),
    ).rejects.toMatchObject({ code: 'CS_CALLBACK_INPUT' })
    await expect(
      callHandler({
        url: 'http://127.0.0.1:9',
        route: 'config',
        mode: 'certificate',
        payload,
        pinnedSpkiSha256: pin,
      }),
    ).rejects.toThrow(/https/)
  })
})

describe('callHandler: a RETRY series survives a restart and stops on abort', () => {
  const INTERVAL = 180_000

  /** Runs a held request until attempt `k` has been answered RETRY, then aborts, as a daemon shutting down. */
  async function interruptAfter(k: number, server: Awaited<ReturnType<typeof testHandler>>, maxRetries = 20) {
    const store = new MemoryRetryScheduleStore()
    const { payload } = buildFixture('eth-transfer-signing')
    const shutdown = new AbortController()
    const clock = fakeClock((sleeps) => {
      if (sleeps.length === k) shutdown.abort(new Error('daemon stopping'))
    })
    const first = callHandler({
      url: server.url,
      route: 'tx',
      payload,
      ...keys,
      clock,
      retry: { intervalMs: INTERVAL, maxRetries },
      retryStore: store,
      signal: shutdown.signal,
    })
    await expect(first).rejects.toThrow('daemon stopping')
    return { store, payload, stoppedAt: clock.now() }
  }

  it('resumes a series interrupted after attempt k at k+1, with the identical request, on the saved schedule', async () => {
    const server = await testHandler({ hold: true })
    const { store, payload, stoppedAt } = await interruptAfter(3, server)
    const requestId = String(payload.requestId)
    const saved = await store.load(requestId)
    expect(saved).toMatchObject({ requestId, attempts: 3, intervalMs: INTERVAL, maxRetries: 20 })
    expect(server.deliveries.get(requestId)).toBe(3)

    // The restarted daemon: a new clock 60 s before the next attempt is due, the same request, default retry
    // options (the saved schedule wins), and the handler decides after one more RETRY.
    const restart = fakeClock((sleeps) => {
      if (sleeps.length === 2) server.release(requestId)
    }, saved!.nextAttemptAt - 60_000)
    const resumed = await callHandler({
      url: server.url,
      route: 'tx',
      payload: structuredClone(payload),
      ...keys,
      clock: restart,
      retryStore: store,
    })
    expect(resumed.outcome).toEqual({ type: 'decided', action: 'APPROVE' })
    expect(resumed.transcript.map((exchange) => [exchange.attempt, exchange.response?.action])).toEqual([
      [4, 'RETRY'],
      [5, 'APPROVE'],
    ])
    expect(restart.sleeps).toEqual([60_000, INTERVAL])
    expect(resumed.transcript[0]!.sentAt).toBe(stoppedAt)
    expect(server.deliveries.get(requestId)).toBe(5)
    expect(new Set(server.bodies)).toEqual(new Set([saved!.body]))
    expect(server.bodies).toHaveLength(5)
    expect(store.requestIds).toEqual([])
  })

  it('counts attempts across the restart: maxRetries RETRYs in all, then it gives up', async () => {
    const server = await testHandler({ hold: true })
    const { store, payload } = await interruptAfter(2, server, 4)
    const resumed = await callHandler({
      url: server.url,
      route: 'tx',
      payload,
      ...keys,
      clock: fakeClock(),
      retryStore: store,
    })
    expect(resumed.outcome).toEqual({ type: 'retries-exhausted', attempts: 5 })
    expect(resumed.transcript.map((exchange) => exchange.attempt)).toEqual([3, 4, 5])
    expect(server.deliveries.get(String(payload.requestId))).toBe(5)
  })

  it('refuses to resume a stored series with a different payload under the same requestId', async () => {
    const server = await testHandler({ hold: true })
    const { store, payload } = await interruptAfter(1, server)
    const altered = { ...payload, amountStr: '1250' }
    await expect(
      callHandler({ url: server.url, route: 'tx', payload: altered, ...keys, retryStore: store }),
    ).rejects.toThrow(/stored with another payload/)
    expect(server.deliveries.get(String(payload.requestId))).toBe(1)
  })

  it('abort stops the wait between retries at once and keeps the series for a restart', async () => {
    const server = await testHandler({ hold: true })
    const store = new MemoryRetryScheduleStore()
    const { payload } = buildFixture('eth-transfer-signing')
    const started = performance.now()
    const call = callHandler({
      url: server.url,
      route: 'tx',
      payload,
      ...keys,
      retry: { intervalMs: 600_000 },
      retryStore: store,
      signal: AbortSignal.timeout(300),
    })
    await expect(call).rejects.toMatchObject({ name: 'TimeoutError' })
    expect(performance.now() - started).toBeLessThan(5_000)
    expect(server.deliveries.get(String(payload.requestId))).toBe(1)
    expect(await store.load(String(payload.requestId))).toMatchObject({ attempts: 1 })
  })

  it('abort cancels the HTTP request in flight', async () => {
    let closed = false
    const host = await listen(
      createHttpServer((request) => {
        request.socket.once('close', () => (closed = true))
      }),
    )
    const { payload } = buildFixture('eth-transfer-approval')
    const controller = new AbortController()
    const call = callHandler({
      url: `http://${host}`,
      route: 'tx',
      payload,
      ...keys,
      signal: controller.signal,
    })
    setTimeout(() => controller.abort(new Error('cancelled by the operator')), 100)
    await expect(call).rejects.toThrow('cancelled by the operator')
    await expect.poll(() => closed).toBe(true)
  })

  it('an already aborted signal sends nothing', async () => {
    const server = await testHandler()
    const { payload } = buildFixture('eth-transfer-approval')
    const signal = AbortSignal.abort(new Error('too late'))
    await expect(callHandler({ url: server.url, route: 'tx', payload, ...keys, signal })).rejects.toThrow(
      'too late',
    )
    expect(server.deliveries.size).toBe(0)
  })
})
