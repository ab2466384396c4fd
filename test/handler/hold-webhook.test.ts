import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import pino from 'pino'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ManualClock, systemClock } from '../../src/core/index.js'
import { ConfigInvalid, HoldWebhook, compileConfig, type HoldCreatedEvent } from '../../src/handler/index.js'
import { loadTxFixture } from '../../src/testing/index.js'
import { makeTestSetup, startTestHandler, transferOfUsd, type TestHandler } from './support.js'

/**
 * New holds announced on signed webhooks: a real handler and a receiver on 127.0.0.1, the signature
 * checked as docs/handler.md tells a receiver to check it, retries driven by a ManualClock.
 */
const SECRET = 'a'.repeat(16) + randomUUID().replaceAll('-', '')

interface Received {
  readonly headers: IncomingMessage['headers']
  readonly body: string
}

interface Receiver {
  readonly url: string
  readonly received: Received[]
  close(): Promise<void>
}

/** A local receiver; `respond` answers the nth request (0-based), or leaves it unanswered. */
async function startReceiver(respond: (index: number, response: ServerResponse) => void): Promise<Receiver> {
  const received: Received[] = []
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') })
      respond(received.length - 1, response)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hooks/countersign`,
    received,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** What docs/handler.md tells a receiver to do. */
function verifies(delivery: Received, secret: string): boolean {
  const timestamp = String(delivery.headers['x-countersign-timestamp'])
  const expected = `v1=${createHmac('sha256', secret).update(`${timestamp}.${delivery.body}`).digest('hex')}`
  const given = Buffer.from(String(delivery.headers['x-countersign-signature']))
  return given.length === expected.length && timingSafeEqual(given, Buffer.from(expected))
}

const answer = (status: number) => (_index: number, response: ServerResponse) =>
  response.writeHead(status).end()

function heldRequest(): Record<string, unknown> {
  const requestId = randomUUID()
  return { ...loadTxFixture('btc-one-time-address'), requestId, txId: requestId }
}

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function handlerAnnouncingTo(receiver: Receiver): Promise<TestHandler> {
  const h = await startTestHandler({ webhooks: [{ url: receiver.url, secret: SECRET }] })
  cleanups.push(() => h.close())
  return h
}

describe('hold webhook', () => {
  it('announces a new hold once, with a signature that verifies with the secret only', async () => {
    const receiver = await startReceiver(answer(204))
    cleanups.push(() => receiver.close())
    const h = await handlerAnnouncingTo(receiver)
    const held = heldRequest()
    const other = heldRequest()

    expect((await h.send('tx', held)).status).toBe(200)
    // The co-signer's retry repeats the recorded hold, and an approval is no hold: neither is announced.
    expect((await h.send('tx', held)).status).toBe(200)
    expect((await h.send('tx', transferOfUsd(1234.5))).status).toBe(200)
    expect((await h.send('tx', other)).status).toBe(200)
    await vi.waitFor(() => expect(receiver.received).toHaveLength(2))

    const events = receiver.received.map((delivery) => JSON.parse(delivery.body) as HoldCreatedEvent)
    expect(events.map((event) => event.requestId).sort()).toEqual([held.requestId, other.requestId].sort())
    const delivery = receiver.received[events.findIndex((event) => event.requestId === held.requestId)]!
    const event = JSON.parse(delivery.body) as HoldCreatedEvent
    expect(event).toMatchObject({
      type: 'hold.created',
      requestId: held.requestId,
      route: 'tx',
      kind: 'tx_signing',
      amountUsd: 7943,
      asset: 'BTC',
      source: 'VAULT:11',
      ruleId: 'one-time-hold',
      quorum: 2,
      approvers: ['alice', 'bob', 'carol'],
    })
    expect(event.destination).toBe('ONE_TIME_ADDRESS:1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu')
    expect(Date.parse(event.expiresAt) - Date.parse(event.createdAt)).toBe(50 * 60_000)
    expect(Math.abs(Number(delivery.headers['x-countersign-timestamp']) - Date.now() / 1000)).toBeLessThan(60)
    expect(verifies(delivery, SECRET)).toBe(true)
    expect(verifies(delivery, SECRET.replace('a', 'b'))).toBe(false)
    expect(verifies({ ...delivery, body: delivery.body.replace('7943', '7944') }, SECRET)).toBe(false)
  })

  it('retries with exponential backoff: a receiver failing twice gets the event on the third attempt', async () => {
    const receiver = await startReceiver((index, response) => response.writeHead(index < 2 ? 503 : 200).end())
    cleanups.push(() => receiver.close())
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'))
    const lines: Record<string, unknown>[] = []
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) })
    const webhook = new HoldWebhook({ targets: [{ url: receiver.url, secret: SECRET }], log, clock })
    cleanups.push(() => webhook.close())

    webhook.announce({ type: 'hold.created', requestId: 'r-1' } as unknown as HoldCreatedEvent)
    await vi.waitFor(() => expect(lines).toHaveLength(1))
    expect(lines[0]).toMatchObject({ attempt: 1, failure: 'HTTP 503', retryInMs: 1000 })
    clock.advance(999)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(receiver.received).toHaveLength(1)
    clock.advance(1)
    await vi.waitFor(() => expect(lines).toHaveLength(2))
    expect(lines[1]).toMatchObject({ attempt: 2, failure: 'HTTP 503', retryInMs: 2000 })
    clock.advance(2000)
    await vi.waitFor(() => expect(receiver.received).toHaveLength(3))

    const third = receiver.received[2]!
    expect(third.headers['x-countersign-timestamp']).toBe(String(Math.floor(clock.now() / 1000)))
    expect(verifies(third, SECRET)).toBe(true)
    await webhook.close()
    expect(lines).toHaveLength(2)
    expect(JSON.stringify(lines)).not.toContain(SECRET)
    expect(lines[0]).toMatchObject({ webhook: new URL(receiver.url).origin, requestId: 'r-1' })
  })

  it('gives up after five attempts, one log line each', async () => {
    const receiver = await startReceiver(answer(500))
    cleanups.push(() => receiver.close())
    const lines: Record<string, unknown>[] = []
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) })
    const webhook = new HoldWebhook({
      targets: [{ url: receiver.url, secret: SECRET }],
      log,
      clock: systemClock,
      firstRetryMs: 1,
    })
    cleanups.push(() => webhook.close())
    webhook.announce({ type: 'hold.created', requestId: 'r-2' } as unknown as HoldCreatedEvent)
    await vi.waitFor(() => expect(lines).toHaveLength(5))
    expect(lines.map((line) => line.msg)).toEqual([
      ...Array<string>(4).fill('hold webhook delivery failed: retrying'),
      'hold webhook delivery failed: giving up',
    ])
    expect(lines.map((line) => line.retryInMs)).toEqual([1, 2, 4, 8, undefined])
    expect(receiver.received).toHaveLength(5)
  })

  it('never delays the answer: a receiver that never answers, and shutdown does not wait for it', async () => {
    const receiver = await startReceiver(() => undefined)
    cleanups.push(() => receiver.close())
    const h = await handlerAnnouncingTo(receiver)

    const started = performance.now()
    const reply = await h.send('tx', heldRequest())
    expect(reply.status).toBe(200)
    expect(performance.now() - started).toBeLessThan(2000)
    await vi.waitFor(() => expect(receiver.received).toHaveLength(1))

    const closing = performance.now()
    await h.close()
    expect(performance.now() - closing).toBeLessThan(2000)
  })
})

describe('hold webhook configuration', () => {
  const { dir, handlerKeys, cosigner } = makeTestSetup()
  const documentWith = (webhooks: unknown) => ({
    cosigners: [{ name: 'c', publicKey: cosigner.publicPem }],
    apiUsers: [{ signerId: 'u', authMode: 'jwt', handlerKey: handlerKeys.privatePem }],
    policy: 'policy.yaml',
    webhooks,
  })
  function problemsOf(webhooks: unknown, env: NodeJS.ProcessEnv = {}): string[] {
    try {
      compileConfig(documentWith(webhooks), dir, env)
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigInvalid)
      return [...(error as ConfigInvalid).problems].map(String)
    }
    throw new Error('the configuration was accepted')
  }

  it('refuses a short secret and a URL that is not http(s), naming the key and the fix', () => {
    const problems = problemsOf([
      { url: 'https://alerts.example.com/hook', secret: 'too-short' },
      { url: 'ftp://alerts.example.com/hook', secret: SECRET },
    ])
    expect(problems).toHaveLength(2)
    expect(problems[0]).toMatch(/webhooks\.0\.secret.*9 characters long: at least 32.*openssl rand/)
    expect(problems[0]).not.toContain('too-short')
    expect(problems[1]).toMatch(
      /webhooks\.1\.url.*"ftp:\/\/alerts\.example\.com\/hook" is not an http\(s\) URL/,
    )
  })

  it('takes the secret from the environment, and reports an unset variable once', () => {
    const webhooks = [{ url: 'https://alerts.example.com/hook', secret: '${HOLD_WEBHOOK_SECRET}' }]
    expect(problemsOf(webhooks)).toEqual([
      expect.stringMatching(/webhooks\.0\.secret.*HOLD_WEBHOOK_SECRET is referenced but not set/),
    ])
    const config = compileConfig(documentWith(webhooks), dir, { HOLD_WEBHOOK_SECRET: SECRET })
    expect(config.webhooks).toEqual([{ url: 'https://alerts.example.com/hook', secret: SECRET }])
  })
})
