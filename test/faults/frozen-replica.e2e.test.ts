/**
 * A replica frozen inside its write transaction (issue 11, item 5): two handler processes on one
 * PostgreSQL database; one is stopped (SIGSTOP) while its transaction holds a request's lock. The healthy
 * replica keeps deciding other requests (locks are per aggregate), answers the frozen request RETRY within
 * the decision deadline instead of hanging, and decides it once the server ends the frozen session
 * (`idle_in_transaction_session_timeout`); continued (SIGCONT), the frozen replica decides nothing twice.
 */
import { rmSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import {
  openStore,
  POSTGRES_SESSION_LIMITS,
  postgresAdvisoryKey,
  requestLock,
} from '../../src/storage/index.js'
import { pgUrl, postgresDatabase } from '../support/databases.js'
import {
  postToken,
  signRequest,
  startHandlerProcess,
  stopHandlers,
  waitFor,
} from '../support/handler-process.js'
import { transferOfUsd, writeConfigFolder } from '../handler/support.js'

const clients: pg.Client[] = []
const folders: string[] = []
afterEach(async () => {
  await stopHandlers()
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true })
  for (const client of clients.splice(0)) await client.end().catch(() => undefined)
})
afterAll(async () => {
  if (pgUrl !== undefined) await postgresDatabase.dropAll()
})

/** The store URL under which a replica's sessions are named in pg_stat_activity. */
function named(storeUrl: string, name: string): string {
  const url = new URL(storeUrl)
  url.searchParams.set('application_name', name)
  return url.toString()
}

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client(url)
  clients.push(client)
  await client.connect()
  return client
}

const DEADLINE_MS = 25_000

describe.skipIf(pgUrl === undefined)('a replica frozen inside its transaction', () => {
  it('does not stop the healthy replica, and nothing is decided twice', async () => {
    const storeUrl = await postgresDatabase.freshUrl()
    const start = (name: string) => {
      const dir = writeConfigFolder({ storeUrl: named(storeUrl, name), logLevel: 'warn' })
      folders.push(dir)
      return startHandlerProcess(dir)
    }
    const [frozen, healthy] = await Promise.all([start('replica_frozen'), start('replica_healthy')])
    const observer = await connect(pgUrl!)
    const count = async (query: string, values: unknown[] = []) =>
      (await observer.query<{ n: number }>(query, values)).rows[0]!.n
    const sessionOf = async (state: string, waiting?: string) =>
      (await count(
        `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE application_name = 'replica_frozen' AND state = $1 AND coalesce(wait_event_type, '') = $2`,
        [state, waiting ?? ''],
      )) > 0
    const frozenAdvisoryLocks = () =>
      count(`SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a USING (pid)
             WHERE a.application_name = 'replica_frozen' AND l.locktype = 'advisory' AND l.granted`)

    // Hold the frozen replica inside its transaction: it waits for a request lock another session holds.
    const payload = transferOfUsd(100)
    const requestId = String(payload.requestId)
    const token = await signRequest(payload)
    const blocker = await connect(storeUrl)
    const lockKey = postgresAdvisoryKey(requestLock('tx', requestId))
    await blocker.query('SELECT pg_advisory_lock($1)', [lockKey])
    const frozenAnswer = postToken(frozen.url, token)
    await waitFor(() => sessionOf('active', 'Lock'), 5_000, 'the replica waiting for the request lock')
    frozen.child.kill('SIGSTOP')
    await blocker.query('SELECT pg_advisory_unlock($1)', [lockKey])
    // Its session now holds the request's lock, idle in a transaction its stopped process will not end.
    await waitFor(
      () => sessionOf('idle in transaction', 'Client'),
      5_000,
      'the frozen session idle in its transaction',
    )
    const frozenAt = Date.now()
    expect(await frozenAdvisoryLocks()).toBeGreaterThan(0)

    // The healthy replica decides other requests at once.
    for (let index = 0; index < 5; index++) {
      const started = Date.now()
      expect((await postToken(healthy.url, await signRequest(transferOfUsd(100))))?.action).toBe('APPROVE')
      expect(Date.now() - started).toBeLessThan(POSTGRES_SESSION_LIMITS.lock_timeout)
    }
    // The frozen request: RETRY within the deadline (after lock_timeout), not a hang; other requests the
    // healthy replica receives meanwhile wait for its writer at most, and are decided.
    const started = Date.now()
    const retried = postToken(healthy.url, token).then((answer) => ({ answer, ms: Date.now() - started }))
    await sleep(100)
    const others = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const answer = await postToken(healthy.url, await signRequest(transferOfUsd(100)))
        return { answer, ms: Date.now() - started }
      }),
    )
    const { answer: retry, ms: retryMs } = await retried
    expect(retry?.action).toBe('RETRY')
    expect(retryMs).toBeLessThan(DEADLINE_MS)
    expect(others.map(({ answer }) => answer?.action)).toEqual(others.map(() => 'APPROVE'))
    expect(Math.max(...others.map(({ ms }) => ms))).toBeLessThan(DEADLINE_MS)
    console.log(
      'MEASURE retry',
      retryMs,
      'others',
      others.map(({ ms }) => ms),
    )

    // The server ends the frozen session, which releases its locks; the request is then decided.
    await waitFor(
      async () => (await frozenAdvisoryLocks()) === 0,
      POSTGRES_SESSION_LIMITS.idle_in_transaction_session_timeout + 5_000,
      'the frozen session ended by idle_in_transaction_session_timeout',
    )
    expect(Date.now() - frozenAt).toBeGreaterThan(
      POSTGRES_SESSION_LIMITS.idle_in_transaction_session_timeout - 1_000,
    )
    const decided = await postToken(healthy.url, token)
    expect(decided).toEqual({ action: 'APPROVE', requestId })

    // Continued, the frozen replica finds its transaction gone: RETRY for the request it held, then the
    // recorded answer, never a second decision.
    frozen.child.kill('SIGCONT')
    expect((await frozenAnswer)?.action).toBe('RETRY')
    await sleep(200)
    let again = await postToken(frozen.url, token)
    for (let attempt = 0; attempt < 20 && again?.action === 'RETRY'; attempt++) {
      await sleep(250)
      again = await postToken(frozen.url, token)
    }
    expect(again).toEqual(decided)
    expect(frozen.child.exitCode).toBeNull()

    const store = await openStore(storeUrl)
    try {
      expect(
        (await store.listDecisions(0)).filter((decision) => decision.requestId === requestId),
      ).toHaveLength(1)
      const entries = []
      for await (const entry of store.readAudit())
        if (entry.requestId === requestId) entries.push(entry.event)
      expect(entries).toEqual(['decision'])
      expect(await store.verifyAudit()).toMatchObject({ ok: true, decisions: 11 })
    } finally {
      await store.close()
    }
  }, 60_000)
})
