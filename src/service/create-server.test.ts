import { connect, type Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'
import pino from 'pino'
import { Counter, Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { createServiceServer, listenOn, type ServerLimits } from './index.js'

const silent = pino({ level: 'silent' })
const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function serve(limits: Partial<ServerLimits> = {}, extend?: (app: FastifyInstance) => void) {
  const app = createServiceServer({ log: silent, limits })
  app.post('/echo', async (request) => ({ body: request.body ?? null }))
  extend?.(app)
  const url = await listenOn(app, { host: '127.0.0.1', port: 0 }, false)
  cleanups.push(() => app.close())
  return { app, url, port: Number(new URL(url).port) }
}

/** A client that sends headers announcing a body, then trickles one byte at a time and never finishes. */
function slowBodyClient(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{',
      )
      resolve(socket)
    })
    socket.on('error', () => undefined)
    socket.once('error', reject)
    cleanups.push(() => socket.destroy())
  })
}

describe('service server', () => {
  it('accepts an empty body sent as application/json, and still parses and guards real JSON', async () => {
    const { app } = await serve()
    const empty = await app.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/json' },
    })
    expect(empty.statusCode).toBe(200)
    expect(empty.json()).toEqual({ body: null })
    const filled = await app.inject({ method: 'POST', url: '/echo', payload: { a: 1 } })
    expect(filled.json()).toEqual({ body: { a: 1 } })
    const poisoned = await app.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"__proto__": {"admin": true}}',
    })
    expect(poisoned.statusCode).toBe(400)
  })

  it('never puts a stack, a path or an internal message in an answer', async () => {
    const { app } = await serve({}, (instance) =>
      instance.get('/boom', async () => {
        throw new Error('connect ECONNREFUSED /var/lib/secret/internal.sock')
      }),
    )
    const reply = await app.inject({ method: 'GET', url: '/boom' })
    expect(reply.statusCode).toBe(500)
    expect(reply.body).toBe('')
    const malformed = await app.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"a":',
    })
    expect(malformed.statusCode).toBe(400)
    expect(malformed.body).toBe('')
  })

  it('serves probes: live, ready from its check (503 when it fails), metrics', async () => {
    let ready = true
    const metrics = new Registry()
    new Counter({ name: 'test_things_total', help: 'things', registers: [metrics] }).inc(3)
    const app = createServiceServer({
      log: silent,
      metrics,
      readiness: async () => ({ ready, store: ready }),
    })
    cleanups.push(() => app.close())
    expect((await app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' })
    expect((await app.inject({ url: '/readyz' })).json()).toEqual({ status: 'ready', store: true })
    ready = false
    const down = await app.inject({ url: '/readyz' })
    expect([down.statusCode, down.json()]).toEqual([503, { status: 'not ready', store: false }])
    expect((await app.inject({ url: '/metrics' })).body).toMatch(/^test_things_total 3$/m)
  })

  it('keeps answering while more clients trickle bodies than it has connection slots', async () => {
    const { app, url, port } = await serve({
      maxConnections: 20,
      requestTimeoutMs: 60_000,
      headersTimeoutMs: 60_000,
    })
    await Promise.all(Array.from({ length: 100 }, () => slowBodyClient(port)))
    // The oldest trickling clients were evicted to make room: descriptors stay bounded.
    const open = () =>
      new Promise<number>((resolve) => app.server.getConnections((_e, count) => resolve(count)))
    await expect.poll(open).toBeLessThanOrEqual(20)
    const started = Date.now()
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        fetch(`${url}/echo`, {
          method: 'POST',
          body: '{"ok":true}',
          headers: { 'content-type': 'application/json' },
        }),
      ),
    )
    expect(answers.map((answer) => answer.status)).toEqual(Array(10).fill(200))
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it('drops a client that takes longer than the request timeout to send its body', async () => {
    const { port } = await serve({ requestTimeoutMs: 500, headersTimeoutMs: 500 })
    const socket = await slowBodyClient(port)
    const started = Date.now()
    const received = await new Promise<string>((resolve) => {
      let text = ''
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()))
      socket.on('close', () => resolve(text))
    })
    expect(received).toMatch(/^HTTP\/1\.1 408/)
    expect(Date.now() - started).toBeLessThan(3_000)
  })

  it('closes at once on stop the connections with nothing being handled, and the rest after the drain bound', async () => {
    let handling = false
    const { app, url, port } = await serve(
      { drainTimeoutMs: 800, requestTimeoutMs: 60_000, headersTimeoutMs: 60_000 },
      (instance) =>
        instance.get('/stuck', () => {
          handling = true
          return new Promise(() => undefined)
        }),
    )
    const slow = await slowBodyClient(port)
    const stuck = fetch(`${url}/stuck`).then(
      (answer) => answer.status,
      () => 'connection closed',
    )
    await expect.poll(() => handling).toBe(true)
    const started = Date.now()
    const slowClosedAfter = new Promise<number>((resolve) =>
      slow.on('close', () => resolve(Date.now() - started)),
    )
    await app.close()
    expect(await slowClosedAfter).toBeLessThan(300)
    expect(await stuck).toBe('connection closed')
    expect(Date.now() - started).toBeGreaterThanOrEqual(700)
    expect(Date.now() - started).toBeLessThan(3_000)
  })
})
