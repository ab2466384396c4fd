import { createVerify, generateKeyPairSync } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { compactVerify, createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet } from 'jose'
import pino from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { testDatabases } from '../../../test/support/databases.js'
import { ManualClock } from '../../core/index.js'
import { createServiceServer } from '../../service/index.js'
import {
  HUB_WEBHOOK_MIGRATIONS,
  migrate,
  openDatabase,
  webhookOutbox,
  type StorageDatabase,
  type WebhookPayloadVersion,
} from '../../storage/index.js'
import { setPrincipal, type HubRouteConfig, type Role } from '../rest/roles.js'
import {
  JWKS_CACHE_CONTROL,
  JWKS_PATH,
  MAX_ATTEMPTS,
  RETRY_DELAYS_SECONDS,
  enqueueTransactionEvent,
  startWebhookDelivery,
  webhookJwks,
  webhookJwksRoute,
  webhookRoutes,
  webhookSigningKey,
  type TransactionEventType,
  type WebhookSigningKey,
} from './index.js'

const T0 = 1_750_000_000_000
const WORKSPACE = '6a7dd9a4-0000-4000-8000-000000000001'
const silent = pino({ level: 'silent' })

let signingKey: WebhookSigningKey
let jwks: JSONWebKeySet
let publicPem: string
beforeAll(async () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  signingKey = await webhookSigningKey(privateKey)
  jwks = webhookJwks([signingKey])
  publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString()
})

/** A transaction as GET /v1/transactions/{id} answers it, with a few awkward characters on the wire. */
function transaction(id: string, status = 'SUBMITTED') {
  return {
    id,
    externalTxId: `ext-${id}`,
    status,
    subStatus: '',
    txHash: '',
    assetId: 'ETH_TEST5',
    note: 'café → 𝔘 "quoted" </script>',
    amountInfo: { amount: '0.001112' },
    createdAt: T0,
    lastUpdated: T0,
    amount: 0.001112,
    signedMessages: [],
  }
}

interface Received {
  readonly raw: string
  readonly body: unknown
  readonly at: number
  /** Fireblocks' Node sample: RSA-SHA512 over JSON.stringify of the parsed body. */
  readonly legacyVerified: boolean
  /** The detached JWS, payload re-inserted from the raw body, checked against the published JWKS. */
  readonly jwsVerified: boolean
  readonly kid: unknown
  readonly headers: IncomingHttpHeaders
}

/** A real receiver on 127.0.0.1 answering scripted statuses (200 once the script runs out). */
async function startReceiver(clock: ManualClock, script: (number | 'hang')[] = []) {
  const received: Received[] = []
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      void (async () => {
        const raw = Buffer.concat(chunks).toString('utf8')
        const body = JSON.parse(raw) as unknown
        const legacyVerified = createVerify('RSA-SHA512')
          .update(JSON.stringify(body))
          .verify(publicPem, String(request.headers['fireblocks-signature']), 'base64')
        const [protectedHeader, , signature] = String(request.headers['fireblocks-webhook-signature']).split(
          '.',
        )
        const compact = `${protectedHeader}.${Buffer.from(raw).toString('base64url')}.${signature}`
        const jwsVerified = await compactVerify(compact, createLocalJWKSet(jwks), {
          algorithms: ['RS512'],
        }).then(
          () => true,
          () => false,
        )
        const kid = decodeProtectedHeader(compact).kid
        received.push({
          raw,
          body,
          at: clock.now(),
          legacyVerified,
          jwsVerified,
          kid,
          headers: request.headers,
        })
        const next = script.shift() ?? 200
        if (next === 'hang') return
        response.writeHead(next, { 'content-type': 'text/plain' }).end('receiver says: secret-in-response')
      })()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/token-abc123`
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return { received, url, close }
}

/** Polls (real time) until `check` holds. */
async function until(check: () => boolean | Promise<boolean>, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

describe.each(testDatabases)('hub webhooks on $name', (testDatabase) => {
  const cleanups: (() => Promise<unknown>)[] = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })
  afterAll(() => testDatabase.dropAll())

  async function openDb(url: string): Promise<StorageDatabase> {
    const db = openDatabase(url)
    await migrate(db, HUB_WEBHOOK_MIGRATIONS, T0)
    return db
  }

  async function setup(script: (number | 'hang')[] = [], versions: WebhookPayloadVersion[] = ['v1']) {
    const clock = new ManualClock(T0)
    const url = await testDatabase.freshUrl()
    const db = await openDb(url)
    cleanups.push(() => db.close())
    const receiver = await startReceiver(clock, script)
    cleanups.push(receiver.close)
    const outbox = webhookOutbox(db)
    for (const [index, payloadVersion] of versions.entries())
      await outbox.addEndpoint(
        {
          id: `endpoint-${payloadVersion}-${index}`,
          url: receiver.url,
          events: ['transaction.created', 'transaction.status.updated'],
          payloadVersion,
          enabled: true,
          description: null,
        },
        T0,
      )
    const enqueue = (id: string, eventType: TransactionEventType = 'transaction.created', database = db) =>
      database.write((session) =>
        enqueueTransactionEvent(
          session,
          { eventType, workspaceId: WORKSPACE, transaction: transaction(id) },
          clock.now(),
        ),
      )
    const start = (database = db, log = silent) => {
      // Polling every (manual) millisecond, the worker looks exactly when a test moves the clock.
      const worker = startWebhookDelivery({ db: database, clock, signingKey, log, pollIntervalMs: 1 })
      cleanups.push(() => worker.stop())
      return worker
    }
    /** Waits until the outbox matches and the worker is asleep, so that moving the clock wakes it. */
    const settled = (check: (rows: Awaited<ReturnType<typeof outbox.entries>>) => boolean) =>
      until(async () => check(await outbox.entries()) && clock.pending > 0, 'the worker to settle')
    return { clock, db, url, receiver, outbox, enqueue, start, settled }
  }

  it('delivers v1 and v2 envelopes that the official sample and a JWKS-checked JWS both verify', async () => {
    const { receiver, outbox, enqueue, start, settled } = await setup([], ['v1', 'v2'])
    await enqueue('tx-1')
    start()
    await settled((rows) => rows.every((row) => row.state === 'delivered'))

    expect(receiver.received).toHaveLength(2)
    for (const delivery of receiver.received) {
      expect(delivery.legacyVerified).toBe(true)
      expect(delivery.jwsVerified).toBe(true)
      expect(delivery.kid).toBe(signingKey.kid)
      expect(delivery.headers['content-type']).toBe('application/json')
    }
    const bodies = receiver.received.map((delivery) => delivery.body as Record<string, unknown>)
    const v1 = bodies.find((body) => 'type' in body)
    const v2 = bodies.find((body) => 'eventType' in body)
    expect(v1).toEqual({
      type: 'TRANSACTION_CREATED',
      tenantId: WORKSPACE,
      timestamp: T0,
      data: transaction('tx-1'),
    })
    expect(Object.keys(v2!)).toEqual(['id', 'eventType', 'resourceId', 'workspaceId', 'createdAt', 'data'])
    expect(v2).toMatchObject({
      eventType: 'transaction.created',
      resourceId: 'tx-1',
      workspaceId: WORKSPACE,
      createdAt: T0,
      data: transaction('tx-1'),
    })
    // The bytes stored are the bytes sent, and they are what JSON.stringify gives back after parsing.
    const rows = await outbox.entries()
    const sent = receiver.received.map((delivery) => delivery.raw)
    expect(new Set(sent)).toEqual(new Set(rows.map((row) => row.body)))
    expect(sent).toEqual(receiver.received.map((delivery) => JSON.stringify(delivery.body)))
    expect(rows.every((row) => row.attempts === 1)).toBe(true)
  })

  it('retries a 500 and delivers on the second attempt, 10 s later', async () => {
    const { clock, receiver, outbox, enqueue, start, settled } = await setup([500, 200])
    await enqueue('tx-1', 'transaction.status.updated')
    start()
    await settled(([row]) => row?.attempts === 1)
    expect(await outbox.entries()).toMatchObject([
      { state: 'pending', attempts: 1, nextAttemptAt: T0 + 10_000, lastError: 'HTTP 500' },
    ])

    clock.advance(9_999)
    await settled(() => true)
    expect(receiver.received).toHaveLength(1)
    clock.advance(1)
    await settled(([row]) => row?.state === 'delivered')
    expect(receiver.received.map((delivery) => delivery.at)).toEqual([T0, T0 + 10_000])
    expect(await outbox.entries()).toMatchObject([{ state: 'delivered', attempts: 2, lastError: null }])
  })

  it('does not retry a 400', async () => {
    const { clock, receiver, outbox, enqueue, start, settled } = await setup([400])
    await enqueue('tx-1')
    start()
    await settled(([row]) => row?.state === 'failed')
    clock.advance(86_400_000)
    await settled(() => true)
    expect(receiver.received).toHaveLength(1)
    expect(await outbox.entries()).toMatchObject([{ state: 'failed', attempts: 1, lastError: 'HTTP 400' }])
  })

  it('follows the schedule 10, 30, 120 ... 14400 s and marks the notification failed after 10 attempts', async () => {
    const { clock, receiver, outbox, enqueue, start, settled } = await setup(Array(20).fill(503))
    await enqueue('tx-1')
    start()
    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
      await settled(([row]) => row?.attempts === attempt)
      clock.advance(RETRY_DELAYS_SECONDS[attempt - 1]! * 1000)
    }
    await settled(([row]) => row?.state === 'failed')
    clock.advance(86_400_000)
    await settled(() => true)

    const expectedTimes = RETRY_DELAYS_SECONDS.reduce(
      (times, delay) => [...times, times.at(-1)! + delay * 1000],
      [T0],
    )
    expect(receiver.received.map((delivery) => delivery.at)).toEqual(expectedTimes)
    expect(await outbox.entries()).toMatchObject([{ state: 'failed', attempts: 10, lastError: 'HTTP 503' }])
  })

  it('retries an endpoint that does not answer within the timeout', async () => {
    const { clock, receiver, outbox, enqueue, start, settled } = await setup(['hang'])
    await enqueue('tx-1')
    start()
    // In flight: the receiver holds the request and the only timer pending is the attempt's timeout.
    await until(() => receiver.received.length === 1 && clock.pending === 1, 'the attempt to hang')
    clock.advance(10_000)
    await settled(([row]) => row?.attempts === 1)
    expect(await outbox.entries()).toMatchObject([
      { state: 'pending', nextAttemptAt: T0 + 20_000, lastError: 'no answer within 10000 ms' },
    ])
    clock.advance(10_000)
    await settled(([row]) => row?.state === 'delivered')
  })

  it('delivers what a stopped worker left pending once a new worker starts on the same database', async () => {
    const { clock, url, db, receiver, enqueue, start, settled } = await setup([500])
    await enqueue('tx-1')
    const first = start()
    await settled(([row]) => row?.attempts === 1)
    await first.stop()
    await db.close()

    const reopened = await openDb(url)
    cleanups.push(() => reopened.close())
    await enqueue('tx-2', 'transaction.created', reopened)
    clock.advance(10_000)
    start(reopened)
    await until(async () =>
      (await webhookOutbox(reopened).entries()).every((row) => row.state === 'delivered'),
    )
    expect(receiver.received.map((delivery) => (delivery.body as { data: { id: string } }).data.id)).toEqual([
      'tx-1',
      'tx-1',
      'tx-2',
    ])
  })

  it('delivers one endpoint its events in the order they were enqueued', async () => {
    const { receiver, enqueue, start, settled } = await setup()
    const ids = Array.from({ length: 30 }, (_, i) => `tx-${i}`)
    for (const id of ids) await enqueue(id, 'transaction.status.updated')
    start()
    await settled((rows) => rows.every((row) => row.state === 'delivered'))
    expect(receiver.received.map((delivery) => (delivery.body as { data: { id: string } }).data.id)).toEqual(
      ids,
    )
  })

  it('holds back the rest of an endpoint after a failure, so a dead endpoint keeps its order', async () => {
    const { clock, receiver, outbox, enqueue, start, settled } = await setup([500])
    for (const id of ['tx-1', 'tx-2', 'tx-3']) await enqueue(id)
    start()
    await settled((rows) => rows[0]?.attempts === 1)
    expect((await outbox.entries()).map((row) => [row.attempts, row.nextAttemptAt])).toEqual([
      [1, T0 + 10_000],
      [0, T0 + 10_000],
      [0, T0 + 10_000],
    ])
    clock.advance(10_000)
    await settled((rows) => rows.every((row) => row.state === 'delivered'))
    expect(receiver.received.map((delivery) => (delivery.body as { data: { id: string } }).data.id)).toEqual([
      'tx-1',
      'tx-1',
      'tx-2',
      'tx-3',
    ])
  })

  it('never fetches a URL that is not http(s)', async () => {
    const { outbox, db, start, settled, clock } = await setup([], [])
    await outbox.addEndpoint(
      {
        id: 'file',
        url: 'file:///etc/passwd',
        events: ['transaction.created'],
        payloadVersion: 'v1',
        enabled: true,
        description: null,
      },
      T0,
    )
    await db.write((session) =>
      enqueueTransactionEvent(
        session,
        { eventType: 'transaction.created', workspaceId: WORKSPACE, transaction: transaction('tx-1') },
        clock.now(),
      ),
    )
    start()
    await settled(([row]) => row?.state === 'failed')
    expect(await outbox.entries()).toMatchObject([{ lastError: 'the endpoint URL is not http(s)' }])
  })

  it('logs ids and causes, never a body, a response or the URL path', async () => {
    const { clock, enqueue, start, settled } = await setup([500, 400])
    const lines: string[] = []
    const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) })
    await enqueue('tx-1')
    start(undefined, log)
    await settled(([row]) => row?.attempts === 1)
    clock.advance(10_000)
    await settled(([row]) => row?.state === 'failed')
    const text = lines.join('')
    expect(text).toContain('tx-1')
    expect(text).toContain('HTTP 500')
    for (const leak of ['café', 'ext-tx-1', 'secret-in-response', 'token-abc123'])
      expect(text).not.toContain(leak)
  })
})

describe('hub webhook routes', () => {
  const cleanups: (() => Promise<unknown>)[] = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  /** The hub with the routes, behind a stand-in for the authentication hook that admits `role`. */
  async function hub(role: Role) {
    const db = openDatabase('sqlite::memory:')
    await migrate(db, HUB_WEBHOOK_MIGRATIONS, T0)
    cleanups.push(() => db.close())
    const app = createServiceServer({ log: silent })
    cleanups.push(() => app.close())
    app.addHook('onRequest', async (request, reply) => {
      const config = request.routeOptions.config as Partial<HubRouteConfig>
      if (config.roles === undefined) return
      if (!config.roles.includes(role)) return reply.code(403).send({ message: 'forbidden', code: -8 })
      setPrincipal(request, { id: 'api-user-1', name: 'ops', role })
    })
    await app.register(webhookJwksRoute([signingKey]))
    await app.register(webhookRoutes({ db, clock: new ManualClock(T0), log: silent }))
    return { app, db }
  }

  it("publishes the JWKS publicly, cacheable for an hour, in the shape of Fireblocks' JWKS", async () => {
    const { app } = await hub('VIEWER')
    const response = await app.inject({ method: 'GET', url: JWKS_PATH })
    expect(response.statusCode).toBe(200)
    expect(response.headers['cache-control']).toBe(JWKS_CACHE_CONTROL)
    const published = response.json<{ keys: Record<string, string>[] }>()
    expect(published.keys).toHaveLength(1)
    const [key] = published.keys
    expect(Object.keys(key!)).toEqual(['kty', 'kid', 'use', 'alg', 'n', 'e'])
    expect(key).toMatchObject({ kty: 'RSA', kid: signingKey.kid, use: 'sig', alg: 'RS512', e: 'AQAB' })
    expect(published).toEqual(jwks)
  })

  it('registers an endpoint that transaction events then go to, and lists it', async () => {
    const { app, db } = await hub('ADMIN')
    const created = await app.inject({
      method: 'POST',
      url: '/v1/webhooks',
      payload: {
        url: 'https://hooks.example.com/fb',
        events: ['transaction.status.updated'],
        description: 'ops',
      },
    })
    expect(created.statusCode).toBe(201)
    const webhook = created.json<Record<string, unknown>>()
    expect(webhook).toMatchObject({
      url: 'https://hooks.example.com/fb',
      events: ['transaction.status.updated'],
      status: 'ENABLED',
      createdAt: T0,
      updatedAt: T0,
      description: 'ops',
    })
    const listed = await app.inject({ method: 'GET', url: '/v1/webhooks' })
    expect(listed.json()).toEqual({ data: [webhook], next: null })

    await db.write((session) =>
      enqueueTransactionEvent(
        session,
        { eventType: 'transaction.status.updated', workspaceId: WORKSPACE, transaction: transaction('tx-9') },
        T0,
      ),
    )
    expect(await webhookOutbox(db).entries()).toMatchObject([
      { endpointId: webhook.id, url: 'https://hooks.example.com/fb', resourceId: 'tx-9' },
    ])
  })

  it('refuses a URL that is not http(s) and events it does not send, in the API error shape', async () => {
    const { app } = await hub('OWNER')
    for (const payload of [
      { url: 'file:///etc/passwd', events: ['transaction.created'] },
      { url: 'https://hooks.example.com', events: ['vault_account.created'] },
      { url: 'https://hooks.example.com', events: [] },
    ]) {
      const response = await app.inject({ method: 'POST', url: '/v1/webhooks', payload })
      expect(response.statusCode).toBe(400)
      expect(response.json()).toMatchObject({
        code: 1400,
        message: expect.stringContaining('invalid webhook'),
      })
    }
    expect((await app.inject({ method: 'GET', url: '/v1/webhooks' })).json()).toEqual({
      data: [],
      next: null,
    })
  })

  it('admits only workspace admins to the management routes', async () => {
    const { app } = await hub('VIEWER')
    const payload = { url: 'https://hooks.example.com', events: ['transaction.created'] }
    expect((await app.inject({ method: 'POST', url: '/v1/webhooks', payload })).statusCode).toBe(403)
    expect((await app.inject({ method: 'GET', url: '/v1/webhooks' })).statusCode).toBe(403)
  })
})

describe('webhook signing key', () => {
  it('refuses a key too short for RS512', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 })
    await expect(webhookSigningKey(privateKey)).rejects.toMatchObject({ code: 'CS_CONFIG_INVALID' })
  })

  it('names the key by its RFC 7638 thumbprint unless told otherwise', async () => {
    expect(signingKey.kid).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect((await webhookSigningKey(signingKey.privateKey, 'hub-2026')).kid).toBe('hub-2026')
  })
})
