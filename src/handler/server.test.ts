import { connect } from 'node:net'
import { randomUUID } from 'node:crypto'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { loadTxFixture } from '../testing/index.js'
import { makeTestSetup } from '../../test/handler/support.js'
import { loadPolicyFile } from '../policy/index.js'
import { callbackPath, signCallbackRequest, verifyCallbackResponse } from '../protocol/index.js'
import { listenOn } from '../service/index.js'
import { openStore } from '../storage/index.js'
import { buildServer } from './index.js'

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function handlerServer() {
  const setup = makeTestSetup()
  const store = await openStore(`sqlite:${setup.dir}/store.db`)
  cleanups.push(() => store.close())
  const logs: Record<string, unknown>[] = []
  const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) })
  const policy = loadPolicyFile(setup.config.policyPath)
  const { app } = buildServer({ config: setup.config, policy: () => policy, store, log })
  cleanups.push(() => app.close())
  return { app, setup, logs }
}

async function signedTransfer(setup: ReturnType<typeof makeTestSetup>) {
  const requestId = randomUUID()
  const payload = { ...loadTxFixture('eth-transfer-signing'), requestId, txId: requestId }
  return { requestId, token: await signCallbackRequest(payload, setup.cosigner.privateKey) }
}

describe('callback routes plugin', () => {
  it('reads callback bodies as raw text in any content type, without imposing that on sibling plugins', async () => {
    const { app, setup } = await handlerServer()
    await app.register(async (hubApi) => {
      hubApi.post('/v1/things', async (request) => ({ parsed: request.body ?? null }))
    })
    const { requestId, token } = await signedTransfer(setup)
    const callback = await app.inject({
      method: 'POST',
      url: callbackPath(setup.config.basePath, 'jwt', 'tx'),
      headers: { 'content-type': 'application/json' },
      payload: token,
    })
    expect(callback.statusCode).toBe(200)
    expect(await verifyCallbackResponse(callback.body, setup.handlerKeys.publicKey)).toMatchObject({
      action: 'APPROVE',
      requestId,
    })
    const json = await app.inject({ method: 'POST', url: '/v1/things', payload: { amount: '1' } })
    expect(json.json()).toEqual({ parsed: { amount: '1' } })
    const empty = await app.inject({
      method: 'POST',
      url: '/v1/things',
      headers: { 'content-type': 'application/json' },
    })
    expect(empty.json()).toEqual({ parsed: null })
    // The callback plugin's catch-all parser does not leak: an unknown content type is refused beside it.
    const text = await app.inject({
      method: 'POST',
      url: '/v1/things',
      headers: { 'content-type': 'application/jwt' },
      payload: token,
    })
    expect(text.statusCode).toBe(415)
  })

  it('measures latency from the request arrival, not from when its body was read', async () => {
    const { app, setup, logs } = await handlerServer()
    const url = await listenOn(app, { host: '127.0.0.1', port: 0 }, false)
    const { token } = await signedTransfer(setup)
    const path = callbackPath(setup.config.basePath, 'jwt', 'tx')
    const answered = new Promise<string>((resolve) => {
      const socket = connect(Number(new URL(url).port), '127.0.0.1', () => {
        socket.write(
          `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: ${token.length}\r\nConnection: close\r\n\r\n`,
        )
        setTimeout(() => socket.write(token), 400)
      })
      let text = ''
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()))
      socket.on('close', () => resolve(text))
    })
    expect(await answered).toMatch(/^HTTP\/1\.1 200/)
    const decision = logs.find((line) => line.msg === 'decision')
    expect(decision?.latencyMs).toBeGreaterThanOrEqual(390)
  })
})
