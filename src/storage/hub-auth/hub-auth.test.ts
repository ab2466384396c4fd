import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { testDatabases } from '../../../test/support/databases.js'
import {
  claimNonce,
  completeIdempotencyKey,
  findApiUser,
  findConsoleUser,
  HUB_AUTH_MIGRATIONS,
  IDEMPOTENCY_RETENTION_MS,
  insertApiUser,
  listApiUsers,
  listConsoleUsers,
  migrate,
  NotFound,
  openDatabase,
  purgeExpiredIdempotencyKeys,
  purgeExpiredNonces,
  putConsoleUser,
  reserveIdempotencyKey,
  setApiUserAllowedIps,
  type StorageDatabase,
} from '../index.js'

const NOW = 1_767_225_600_000
const alice = {
  id: '8c2c4f6e-0000-4000-8000-000000000001',
  name: 'treasury-bot',
  role: 'SIGNER',
  publicKeyPem: '-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n',
  allowedIps: [],
  enabled: true,
  createdAt: NOW,
}

describe.each(testDatabases)('hub-auth store on $name', (testDatabase) => {
  const opened: StorageDatabase[] = []
  const open = async (url?: string) => {
    const database = openDatabase(url ?? (await testDatabase.freshUrl()))
    opened.push(database)
    await migrate(database, HUB_AUTH_MIGRATIONS, NOW)
    return database
  }
  const claim = (database: StorageDatabase, nonce: string, expiresAt: number, now = NOW) =>
    database.write((session) => claimNonce(session.db, { apiKey: alice.id, nonce, expiresAt }, now))
  afterEach(async () => {
    for (const database of opened.splice(0)) await database.close()
  })
  afterAll(() => testDatabase.dropAll())

  it('registers API users, lists them oldest first, and replaces an allow-list', async () => {
    const database = await open()
    const bob = { ...alice, id: '8c2c4f6e-0000-4000-8000-000000000002', name: 'b', createdAt: NOW + 1 }
    await database.write(async ({ db }) => {
      await insertApiUser(db, bob)
      await insertApiUser(db, alice)
    })
    expect(await database.read((db) => listApiUsers(db))).toEqual([alice, bob])
    await database.write(({ db }) => setApiUserAllowedIps(db, alice.id, ['127.0.0.1', '10.0.0.7']))
    expect(await database.read((db) => findApiUser(db, alice.id))).toEqual({
      ...alice,
      allowedIps: ['127.0.0.1', '10.0.0.7'],
    })
    expect(await database.read((db) => findApiUser(db, 'nobody'))).toBeUndefined()
    await expect(database.write(({ db }) => setApiUserAllowedIps(db, 'nobody', []))).rejects.toBeInstanceOf(
      NotFound,
    )
  })

  it('adds console users, changes the role and API user of one, lists them by name', async () => {
    const database = await open()
    await database.write(async ({ db }) => {
      await putConsoleUser(db, { name: 'victor', role: 'VIEWER', apiUserId: null }, NOW)
      await putConsoleUser(db, { name: 'ada', role: 'VIEWER', apiUserId: null }, NOW)
      await putConsoleUser(db, { name: 'ada', role: 'ADMIN', apiUserId: alice.id }, NOW + 5)
    })
    expect(await database.read(listConsoleUsers)).toEqual([
      { name: 'ada', role: 'ADMIN', apiUserId: alice.id, createdAt: NOW, updatedAt: NOW + 5 },
      { name: 'victor', role: 'VIEWER', apiUserId: null, createdAt: NOW, updatedAt: NOW },
    ])
    expect(await database.read((db) => findConsoleUser(db, 'nobody'))).toBeUndefined()
  })

  it('a nonce is used once; once expired it may be taken again, and purging removes only expired ones', async () => {
    const database = await open()
    expect(await claim(database, 'n-1', NOW + 60_000)).toBe(true)
    expect(await claim(database, 'n-1', NOW + 60_000)).toBe(false)
    expect(await claim(database, 'n-1', NOW + 120_000, NOW + 59_999)).toBe(false)
    expect(await claim(database, 'n-1', NOW + 120_000, NOW + 60_000)).toBe(true)
    expect(await claim(database, 'n-2', NOW + 10_000)).toBe(true)
    expect(await database.write(({ db }) => purgeExpiredNonces(db, NOW + 10_000))).toBe(1)
    expect(await claim(database, 'n-1', NOW + 200_000, NOW + 10_000)).toBe(false)
  })

  it('of concurrent claims of one nonce exactly one succeeds', async () => {
    const database = await open()
    const results = await Promise.all(Array.from({ length: 20 }, () => claim(database, 'race', NOW + 60_000)))
    expect(results.filter(Boolean)).toHaveLength(1)
  })

  it('an Idempotency-Key is reserved once, answered, replayed, and reusable after 24 h', async () => {
    const database = await open()
    const scope = { apiKey: alice.id, key: 'idem-1' }
    const reserve = (now = NOW, requestHash = 'h1') =>
      database.write(({ db }) => reserveIdempotencyKey(db, scope, requestHash, now))
    expect(await reserve()).toBeUndefined()
    expect(await reserve(NOW + 1)).toEqual({
      requestHash: 'h1',
      status: undefined,
      responseBody: undefined,
      createdAt: NOW,
    })
    await database.write(({ db }) =>
      completeIdempotencyKey(db, scope, { status: 200, responseBody: '{"id":"7"}' }),
    )
    expect(await reserve(NOW + 2, 'h2')).toEqual({
      requestHash: 'h1',
      status: 200,
      responseBody: '{"id":"7"}',
      createdAt: NOW,
    })
    // Another API user's same key is another scope.
    expect(
      await database.write(({ db }) => reserveIdempotencyKey(db, { ...scope, apiKey: 'other' }, 'h1', NOW)),
    ).toBeUndefined()
    expect(await reserve(NOW + IDEMPOTENCY_RETENTION_MS, 'h3')).toBeUndefined()
    expect(
      await database.write(({ db }) => purgeExpiredIdempotencyKeys(db, NOW + IDEMPOTENCY_RETENTION_MS)),
    ).toBe(1)
  })

  it('two replicas on one database: a nonce or key used through one is refused through the other', async () => {
    const url = await testDatabase.freshUrl()
    const replicaA = await open(url)
    const replicaB = await open(url)
    expect(await claim(replicaA, 'shared', NOW + 60_000)).toBe(true)
    expect(await claim(replicaB, 'shared', NOW + 60_000)).toBe(false)
    const racing = await Promise.all(
      Array.from({ length: 10 }, (_, i) => claim(i % 2 === 0 ? replicaA : replicaB, 'raced', NOW + 60_000)),
    )
    expect(racing.filter(Boolean)).toHaveLength(1)
    const scope = { apiKey: alice.id, key: 'k' }
    expect(await replicaA.write(({ db }) => reserveIdempotencyKey(db, scope, 'h', NOW))).toBeUndefined()
    expect(await replicaB.write(({ db }) => reserveIdempotencyKey(db, scope, 'h', NOW))).toMatchObject({
      requestHash: 'h',
      status: undefined,
    })
  })
})
