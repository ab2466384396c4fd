/**
 * SIGTERM drains: a request already being decided when the handler is told to stop still gets its
 * answer, recorded, before the process exits 0. The request is held in flight by taking the database's
 * request's lock from outside, as another replica deciding the same request would.
 */
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { pgUrl, postgresDatabase } from '../support/databases.js'
import { testKeyPair } from '../support/keys.js'
import { spawnCli } from '../support/process.js'
import { transferOfUsd, writeConfigFolder } from '../handler/support.js'
import { callbackPath, signCallbackRequest, verifyCallbackResponse } from '../../src/protocol/index.js'
import { openStore, postgresAdvisoryKey, requestLock } from '../../src/storage/index.js'

afterAll(() => postgresDatabase.dropAll())

describe.skipIf(pgUrl === undefined)('graceful shutdown', () => {
  it('answers and records an in-flight request after SIGTERM, then exits 0', async () => {
    const storeUrl = await postgresDatabase.freshUrl()
    const dir = writeConfigFolder({ storeUrl, logLevel: 'warn' })
    const handler = spawnCli(['handler', 'start', '--config', 'countersign.yaml'], dir)
    const url = await handler.listening

    const blocker = new pg.Client(storeUrl)
    await blocker.connect()
    try {
      const payload = transferOfUsd(100)
      const lockKey = postgresAdvisoryKey(requestLock('tx', String(payload.requestId)))
      await blocker.query('SELECT pg_advisory_lock($1)', [lockKey])
      const inFlight = fetch(`${url}${callbackPath('', 'jwt', 'tx')}`, {
        method: 'POST',
        body: await signCallbackRequest(payload, testKeyPair('cosigner').privateKey),
      })
      await new Promise((resolve) => setTimeout(resolve, 300))
      handler.child.kill('SIGTERM')
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(handler.child.exitCode).toBeNull() // still draining, not gone
      await blocker.query('SELECT pg_advisory_unlock($1)', [lockKey])

      const answer = await verifyCallbackResponse(
        await (await inFlight).text(),
        testKeyPair('handler').publicKey,
      )
      expect(answer).toEqual({ action: 'APPROVE', requestId: payload.requestId })
      // The keep-alive connection the answer came on must not hold the stopping process open.
      const exited = await Promise.race([
        handler.exited,
        new Promise((resolve) => setTimeout(() => resolve('still running'), 10_000)),
      ])
      expect(exited).toBe(0)
      const store = await openStore(storeUrl)
      try {
        expect((await store.listDecisions(0)).map((decision) => decision.requestId)).toEqual([
          payload.requestId,
        ])
      } finally {
        await store.close()
      }
    } finally {
      await blocker.end()
      handler.child.kill('SIGKILL')
    }
  })
})
