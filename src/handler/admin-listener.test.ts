/**
 * The admin listener: probes and metrics on an address of their own, in plain HTTP, reachable without
 * the client certificate the callback listener demands; the callback listener then serves no metrics.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { testKeyPair } from '../../test/support/keys.js'
import { makeSelfSignedCertificate } from '../../test/support/tls.js'
import { TEST_POLICY } from '../../test/handler/support.js'
import { compileConfig, startHandler, type RunningHandler } from './index.js'

const silent = pino({ level: 'silent' })
const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function start(document: Record<string, unknown>): Promise<RunningHandler> {
  const dir = mkdtempSync(join(tmpdir(), 'cs-admin-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'policy.yaml'), TEST_POLICY)
  const tls = document.tls === true ? makeSelfSignedCertificate(dir) : undefined
  const config = compileConfig(
    {
      listen: '127.0.0.1:0',
      cosigners: [{ name: 'c', publicKey: testKeyPair('cosigner').publicPem }],
      apiUsers: [{ signerId: 's', handlerKey: testKeyPair('handler').privatePem, default: true }],
      policy: 'policy.yaml',
      store: 'sqlite:store.db',
      logLevel: 'silent',
      ...document,
      ...(tls ? { tls: { ...tls, clientCa: tls.cert } } : {}),
    },
    dir,
    {},
  )
  const handler = await startHandler(config, { log: silent })
  cleanups.push(() => handler.close())
  return handler
}

describe('admin listener', () => {
  it('serves probes and metrics in plain HTTP while the callback listener demands a client certificate', async () => {
    const handler = await start({ tls: true, admin: { listen: '127.0.0.1:0' } })
    expect(handler.url).toMatch(/^https:/)
    expect(handler.adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const live = await fetch(`${handler.adminUrl}/healthz`)
    expect(await live.json()).toEqual({ status: 'ok' })
    const ready = await fetch(`${handler.adminUrl}/readyz`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({ status: 'ready', store: true })
    const metrics = await fetch(`${handler.adminUrl}/metrics`)
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/)
    expect(await metrics.text()).toMatch(/# TYPE countersign_decisions_total counter/)
  })

  it('takes /metrics off the callback listener when it is configured', async () => {
    const withAdmin = await start({ admin: { listen: '127.0.0.1:0' } })
    expect((await fetch(`${withAdmin.url}/metrics`)).status).toBe(404)
    expect((await fetch(`${withAdmin.url}/readyz`)).status).toBe(200)
    const without = await start({})
    expect(without.adminUrl).toBeUndefined()
    expect(await (await fetch(`${without.url}/metrics`)).text()).toMatch(/countersign_decisions_total/)
  })

  it('is closed with the handler', async () => {
    const handler = await start({ admin: { listen: '127.0.0.1:0' } })
    const adminUrl = handler.adminUrl!
    await handler.close()
    await expect(fetch(`${adminUrl}/healthz`)).rejects.toThrow()
  })
})
