/**
 * Cross-route replay (issue 11, item 3), through HTTP against a running handler, on SQLite and PostgreSQL:
 * a request's route is part of its identity, so a token re-sent to the other route is another request
 * (refused there as malformed) and never inherits, or changes, the answer of the genuine one.
 */
import { randomUUID } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import {
  verifyCallbackResponse,
  type CallbackResponse,
  type CallbackRoute,
} from '../../src/protocol/index.js'
import { loadConfigFixture } from '../../src/testing/index.js'
import { freshPostgresSchema, pgUrl, sqliteDatabase } from '../support/databases.js'
import { startTestHandler, transferOfUsd, TEST_POLICY, type TestHandler } from '../handler/support.js'

const DATABASES = [
  { name: 'sqlite', open: async () => ({ url: await sqliteDatabase.freshUrl(), drop: async () => {} }) },
  ...(pgUrl === undefined ? [] : [{ name: 'postgres', open: () => freshPostgresSchema(pgUrl!) }]),
]

/** The test policy, with ADD_USER changes held for two approvers. */
const POLICY = TEST_POLICY.replace(
  'config_change:\n',
  `config_change:
  - id: new-users-held
    match: { type: [ADD_USER] }
    require: { quorum: 2, approvers: [alice, bob], ttl: 50m }
    reason: new users need two approvers
`,
)

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  await sqliteDatabase.dropAll()
})

describe.each(DATABASES)('cross-route replay on $name', (database) => {
  async function start(): Promise<{
    h: TestHandler
    send: (route: CallbackRoute, payload: unknown) => Promise<CallbackResponse>
  }> {
    const { url, drop } = await database.open()
    cleanups.push(drop)
    const h = await startTestHandler({ storeUrl: url, policy: POLICY })
    cleanups.push(() => h.close())
    const send = async (route: CallbackRoute, payload: unknown) => {
      const reply = await h.send(route, payload)
      expect(reply.status).toBe(200)
      return verifyCallbackResponse(reply.body, h.handlerKeys.publicKey)
    }
    return { h, send }
  }

  it('an approved transaction re-sent to the configuration route does not get its APPROVE', async () => {
    const { send } = await start()
    const transfer = transferOfUsd(100)
    expect((await send('tx', transfer)).action).toBe('APPROVE')
    const replayed = await send('config', transfer)
    expect(replayed).toMatchObject({ action: 'REJECT', requestId: transfer.requestId })
    expect(replayed.action === 'REJECT' && replayed.rejectionReason).toMatch(/malformed|invalid|type/i)
    // ...and the genuine request keeps its answer.
    expect((await send('tx', transfer)).action).toBe('APPROVE')
  })

  it('a transaction sent to the wrong route first does not make the genuine request inherit that REJECT', async () => {
    const { h, send } = await start()
    const transfer = transferOfUsd(100)
    expect((await send('config', transfer)).action).toBe('REJECT')
    expect((await send('tx', transfer)).action).toBe('APPROVE')
    expect((await send('config', transfer)).action).toBe('REJECT')
    const recorded = (await h.handler.store.listDecisions(0)).filter(
      (decision) => decision.requestId === transfer.requestId,
    )
    expect(recorded.map((decision) => [decision.route, decision.action]).sort()).toEqual([
      ['config', 'REJECT'],
      ['tx', 'APPROVE'],
    ])
    expect(await h.handler.store.verifyAudit()).toMatchObject({ ok: true })
  })

  it('a held configuration change replayed to the transaction route does not settle the hold', async () => {
    const { h, send } = await start()
    const change = { ...loadConfigFixture('add-user'), requestId: randomUUID() }
    expect((await send('config', change)).action).toBe('RETRY')
    expect((await send('tx', change)).action).toBe('REJECT')
    expect((await send('tx', change)).action).toBe('REJECT')
    // The hold is still pending: the genuine request is still answered RETRY and still awaits its approvers.
    expect((await send('config', change)).action).toBe('RETRY')
    const held = await h.handler.store.listHeld()
    expect(held.map((request) => [request.route, request.requestId])).toEqual([['config', change.requestId]])
  })
})
