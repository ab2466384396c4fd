import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { postgresDatabase, pgUrl, testDatabases } from '../../../test/support/databases.js'
import {
  HUB_WEBHOOK_MIGRATIONS,
  migrate,
  openDatabase,
  webhookOutbox,
  type StorageDatabase,
  type WebhookNotification,
  type WebhookOutbox,
} from '../index.js'

const T0 = 1_700_000_000_000
const CREATED = 'transaction.created'
const UPDATED = 'transaction.status.updated'

function notification(resourceId: string, eventType = UPDATED): WebhookNotification {
  return {
    notificationId: `n-${resourceId}`,
    eventType,
    resourceId,
    bodyFor: (endpoint) => JSON.stringify({ to: endpoint.id, tx: resourceId }),
  }
}

async function openOutbox(url: string): Promise<{ database: StorageDatabase; outbox: WebhookOutbox }> {
  const database = openDatabase(url)
  await migrate(database, HUB_WEBHOOK_MIGRATIONS, T0)
  return { database, outbox: webhookOutbox(database) }
}

async function addEndpoint(outbox: WebhookOutbox, id: string, events = [CREATED, UPDATED], enabled = true) {
  await outbox.addEndpoint(
    { id, url: `http://127.0.0.1:9/${id}`, events, payloadVersion: 'v1', enabled, description: null },
    T0,
  )
}

describe.each(testDatabases)('hub webhook outbox on $name', (testDatabase) => {
  const opened: StorageDatabase[] = []
  const open = async (url?: string) => {
    const handle = await openOutbox(url ?? (await testDatabase.freshUrl()))
    opened.push(handle.database)
    return handle
  }
  const enqueue = (database: StorageDatabase, outbox: WebhookOutbox, n: WebhookNotification, now = T0) =>
    database.write((session) => outbox.enqueue(session, n, now))
  afterEach(async () => {
    for (const database of opened.splice(0)) await database.close()
  })
  afterAll(() => testDatabase.dropAll())

  it('writes a row per enabled, subscribed endpoint, with the body rendered for each', async () => {
    const { database, outbox } = await open()
    await addEndpoint(outbox, 'a')
    await addEndpoint(outbox, 'b', [CREATED])
    await addEndpoint(outbox, 'off', [UPDATED], false)
    await enqueue(database, outbox, notification('tx-1'))
    await enqueue(database, outbox, notification('tx-2', CREATED))
    const rows = await outbox.entries()
    expect(rows.map((row) => [row.endpointId, row.eventType, row.body])).toEqual([
      ['a', UPDATED, '{"to":"a","tx":"tx-1"}'],
      ['a', CREATED, '{"to":"a","tx":"tx-2"}'],
      ['b', CREATED, '{"to":"b","tx":"tx-2"}'],
    ])
    expect(
      rows.every((row) => row.state === 'pending' && row.attempts === 0 && row.nextAttemptAt === T0),
    ).toBe(true)
  })

  it('enqueues inside the caller transaction: a rolled-back change leaves no notification', async () => {
    const { database, outbox } = await open()
    await addEndpoint(outbox, 'a')
    await expect(
      database.write(async (session) => {
        await outbox.enqueue(session, notification('tx-lost'), T0)
        throw new Error('the status change failed')
      }),
    ).rejects.toThrow('the status change failed')
    expect(await outbox.entries()).toEqual([])
  })

  it('claims due rows oldest first and hides them from other claims until the lease ends', async () => {
    const { database, outbox } = await open()
    await addEndpoint(outbox, 'a')
    for (const id of ['tx-1', 'tx-2', 'tx-3']) await enqueue(database, outbox, notification(id))
    await enqueue(database, outbox, notification('tx-later'), T0 + 5_000)

    const first = await outbox.claimDue(T0, 2, 60_000)
    expect(first.map((row) => row.resourceId)).toEqual(['tx-1', 'tx-2'])
    expect((await outbox.claimDue(T0, 10, 60_000)).map((row) => row.resourceId)).toEqual(['tx-3'])
    expect(await outbox.claimDue(T0 + 59_999, 10, 60_000)).toHaveLength(1) // tx-later only
    const reclaimed = await outbox.claimDue(T0 + 60_000, 10, 60_000)
    expect(reclaimed.map((row) => row.resourceId)).toEqual(['tx-1', 'tx-2', 'tx-3'])

    // The first worker's lease ended: its outcome no longer counts, the new holder's does.
    expect(await outbox.markDelivered(first[0]!, T0 + 60_001)).toBe(false)
    expect(await outbox.markDelivered(reclaimed[0]!, T0 + 60_001)).toBe(true)
    expect(await outbox.markDelivered(reclaimed[0]!, T0 + 60_002)).toBe(false)
  })

  it('records retries, failures and deliveries, and never claims a settled row again', async () => {
    const { database, outbox } = await open()
    await addEndpoint(outbox, 'a')
    for (const id of ['tx-1', 'tx-2', 'tx-3', 'tx-4']) await enqueue(database, outbox, notification(id))
    const [retry, failed, delivered, deferred] = await outbox.claimDue(T0, 10, 60_000)
    expect(await outbox.markRetry(retry!, T0 + 1, T0 + 10_000, 'HTTP 500')).toBe(true)
    expect(await outbox.markFailed(failed!, T0 + 1, 'HTTP 400')).toBe(true)
    expect(await outbox.markDelivered(delivered!, T0 + 1)).toBe(true)
    await outbox.defer([deferred!], T0 + 10_000, T0 + 1)

    const byTx = new Map((await outbox.entries()).map((row) => [row.resourceId, row]))
    expect(byTx.get('tx-1')).toMatchObject({
      state: 'pending',
      attempts: 1,
      nextAttemptAt: T0 + 10_000,
      lastError: 'HTTP 500',
    })
    expect(byTx.get('tx-2')).toMatchObject({ state: 'failed', attempts: 1, lastError: 'HTTP 400' })
    expect(byTx.get('tx-3')).toMatchObject({ state: 'delivered', attempts: 1, lastError: null })
    expect(byTx.get('tx-4')).toMatchObject({ state: 'pending', attempts: 0, nextAttemptAt: T0 + 10_000 })
    expect(await outbox.claimDue(T0 + 9_999, 10, 60_000)).toEqual([])
    const again = await outbox.claimDue(T0 + 10_000, 10, 60_000)
    expect(again.map((row) => row.resourceId)).toEqual(['tx-1', 'tx-4'])
    expect((await outbox.entries('failed')).map((row) => row.resourceId)).toEqual(['tx-2'])
  })

  it('keeps the endpoints registered, with their subscriptions', async () => {
    const { outbox } = await open()
    await addEndpoint(outbox, 'a', [CREATED])
    expect(await outbox.listEndpoints()).toEqual([
      {
        id: 'a',
        url: 'http://127.0.0.1:9/a',
        events: [CREATED],
        payloadVersion: 'v1',
        enabled: true,
        description: null,
        createdAt: T0,
        updatedAt: T0,
      },
    ])
  })
})

describe.skipIf(pgUrl === undefined)('hub webhook outbox with two replicas on one PostgreSQL schema', () => {
  afterAll(() => postgresDatabase.dropAll())

  it('never hands one row to both replicas at once', async () => {
    const url = await postgresDatabase.freshUrl()
    const replicaA = await openOutbox(url)
    const replicaB = await openOutbox(url)
    try {
      await addEndpoint(replicaA.outbox, 'a')
      await replicaA.database.write(async (session) => {
        for (let i = 0; i < 200; i++) await replicaA.outbox.enqueue(session, notification(`tx-${i}`), T0)
      })
      const claims = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          (i % 2 === 0 ? replicaA : replicaB).outbox.claimDue(T0, 7, 60_000),
        ),
      )
      const ids = claims.flat().map((row) => row.id)
      expect(new Set(ids).size).toBe(ids.length)
      expect(ids).toHaveLength(200)
      expect(claims.filter((claim) => claim.length > 0).length).toBeGreaterThan(28)
    } finally {
      await replicaA.database.close()
      await replicaB.database.close()
    }
  })
})
