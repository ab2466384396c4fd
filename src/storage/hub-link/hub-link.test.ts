import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { systemClock } from '../../core/index.js'
import { postgresDatabase, testDatabases, pgUrl } from '../../../test/support/databases.js'
import {
  HUB_LINK_MIGRATIONS,
  HubLinkStore,
  migrate,
  openDatabase,
  RecordRefused,
  type LinkEnrolment,
  type StorageDatabase,
} from '../index.js'

const enrolment = (name: string, refreshHash: string): LinkEnrolment => ({
  name,
  kind: name.startsWith('cloud') ? 'cloud' : 'customer',
  partyKey: `key-of-${name}`,
  cosignerId: `cosigner-${refreshHash}`,
  displayName: null,
  refreshHash,
})

const job = (id: string, sessions: string[]) => ({
  id,
  kind: 'sign' as const,
  txId: `tx-${id}`,
  attempt: 1,
  algorithm: 'MPC_ECDSA_SECP256K1',
  holders: ['cloud1', 'cloud2', 'user-1'],
  sessions,
})

describe.each(testDatabases)('hub-link store on $name', (database) => {
  const opened: StorageDatabase[] = []
  const open = async (url: string) => {
    const storage = openDatabase(url)
    opened.push(storage)
    await migrate(storage, HUB_LINK_MIGRATIONS, systemClock.now())
    return new HubLinkStore(storage, systemClock)
  }
  afterEach(async () => {
    for (const storage of opened.splice(0)) await storage.close()
  })
  afterAll(() => database.dropAll())

  it('consumes a pairing token once, and a refused second use writes nothing', async () => {
    const store = await open(await database.freshUrl())
    expect(await store.pair('jti-1', enrolment('user-1', 'hash-a'))).toBe(true)
    expect(await store.pair('jti-1', enrolment('user-1', 'hash-b'))).toBe(false)
    expect(await store.refreshLookup('hash-b')).toEqual({ status: 'unknown' })
    expect(await store.refreshLookup('hash-a')).toMatchObject({
      status: 'current',
      party: { name: 'user-1', kind: 'customer', partyKey: 'key-of-user-1', cosignerId: 'cosigner-hash-a' },
    })
  })

  it('revokes the previous refresh token when a party enrols again, and on revoke', async () => {
    const store = await open(await database.freshUrl())
    await store.pair('jti-1', enrolment('user-1', 'hash-a'))
    await store.pair('jti-2', enrolment('user-1', 'hash-b'))
    expect(await store.refreshLookup('hash-a')).toEqual({ status: 'revoked' })
    expect((await store.refreshLookup('hash-b')).status).toBe('current')
    expect(await store.revoke('user-1')).toBe(true)
    expect(await store.refreshLookup('hash-b')).toEqual({ status: 'revoked' })
    expect((await store.party('user-1'))?.revokedAt).toBeTypeOf('number')
    expect(await store.revoke('user-1')).toBe(false)
  })

  it('hands out strictly increasing cursors per party, keeps them after acks, and deletes acked rows', async () => {
    const store = await open(await database.freshUrl())
    expect(
      await store.post([
        { to: 'a', message: 'm1' },
        { to: 'b', message: 'n1' },
        { to: 'a', message: 'm2' },
      ]),
    ).toEqual([1, 1, 2])
    expect(await store.mailbox('a', 0, 10)).toEqual([
      { cursor: 1, message: 'm1' },
      { cursor: 2, message: 'm2' },
    ])
    expect(await store.ack('a', 2)).toBe(2)
    expect(await store.mailbox('a', 0, 10)).toEqual([])
    expect(await store.post([{ to: 'a', message: 'm3' }])).toEqual([3])
    expect(await store.mailbox('a', 0, 10)).toEqual([{ cursor: 3, message: 'm3' }])
    expect(await store.mailbox('b', 0, 10)).toEqual([{ cursor: 1, message: 'n1' }])
  })

  it('records a job with its sessions and lets only the first outcome finish it', async () => {
    const store = await open(await database.freshUrl())
    const created = await store.createJob(job('j1', ['s1']), [{ to: 'cloud1', message: 'sign' }])
    expect(created).toMatchObject({ id: 'j1', state: 'pending', holders: ['cloud1', 'cloud2', 'user-1'] })
    expect((await store.jobBySession('s1'))?.id).toBe('j1')
    expect(await store.mailbox('cloud1', 0, 10)).toEqual([{ cursor: 1, message: 'sign' }])
    const outcomes = await Promise.all([
      store.finishJob('j1', 'done', { signature: 'first' }),
      store.finishJob('j1', 'done', { signature: 'second' }),
      store.finishJob('j1', 'failed', { reason: 'late' }, [{ to: 'cloud1', message: 'cancel' }]),
    ])
    expect(outcomes).toEqual([true, false, false])
    expect(await store.job('j1')).toMatchObject({ state: 'done', result: { signature: 'first' } })
    // The losing call's messages were not posted.
    expect(await store.mailbox('cloud1', 1, 10)).toEqual([])
  })

  it("lists a transaction's jobs, none of another's, with when each was created and finished", async () => {
    let now = 1_000
    const storage = openDatabase(await database.freshUrl())
    opened.push(storage)
    await migrate(storage, HUB_LINK_MIGRATIONS, now)
    const store = new HubLinkStore(storage, { ...systemClock, now: () => now })
    await store.createJob({ ...job('approve', ['s1']), kind: 'approve', txId: 'tx-1' }, [])
    now = 1_250
    await store.finishJob('approve', 'done', {})
    await store.createJob({ ...job('sign', ['s2']), txId: 'tx-1' }, [])
    await store.createJob({ ...job('other', ['s3']), txId: 'tx-2' }, [])
    now = 1_400
    await store.finishJob('sign', 'done', { signature: 'aa' })
    expect(await store.jobsOfTransaction('tx-1')).toMatchObject([
      { id: 'approve', kind: 'approve', state: 'done', createdAt: 1_000, updatedAt: 1_250 },
      { id: 'sign', kind: 'sign', state: 'done', createdAt: 1_250, updatedAt: 1_400 },
    ])
    expect(await store.jobsOfTransaction('tx-3')).toEqual([])
  })

  it("keeps a reshare's dealers beside its holders: the participants are both, each once", async () => {
    const store = await open(await database.freshUrl())
    const reshare = {
      dealers: ['cloud1', 'cloud2', 'user-1'],
      expectedPublicKey: 'aa'.repeat(33),
      expectedChainCode: 'cc'.repeat(32),
    }
    const keygen = { ...job('r1', ['s1']), kind: 'keygen' as const, txId: null, attempt: null }
    await store.createJob({ ...keygen, holders: ['cloud1', 'cloud2', 'user-2'], reshare }, [])
    const read = await store.jobBySession('s1')
    expect(read).toMatchObject({
      holders: ['cloud1', 'cloud2', 'user-2'],
      participants: ['cloud1', 'cloud2', 'user-2', 'user-1'],
      reshare,
    })
    await store.createJob({ ...keygen, id: 'k1', sessions: ['s2'] }, [])
    expect(await store.job('k1')).toMatchObject({
      reshare: null,
      participants: ['cloud1', 'cloud2', 'user-1'],
    })
  })

  it('refuses a session that already belongs to another job, recording nothing of the second', async () => {
    const store = await open(await database.freshUrl())
    await store.createJob(job('j1', ['s1']), [])
    await expect(
      store.createJob(job('j2', ['s2', 's1']), [{ to: 'a', message: 'x' }]),
    ).rejects.toBeInstanceOf(RecordRefused)
    expect(await store.job('j2')).toBeUndefined()
    expect(await store.jobBySession('s2')).toBeUndefined()
    expect(await store.mailbox('a', 0, 10)).toEqual([])
  })
})

describe.skipIf(pgUrl === undefined)('hub-link store across two handles on one PostgreSQL schema', () => {
  const opened: StorageDatabase[] = []
  const open = async (url: string) => {
    const storage = openDatabase(url)
    opened.push(storage)
    await migrate(storage, HUB_LINK_MIGRATIONS, systemClock.now())
    return new HubLinkStore(storage, systemClock)
  }
  afterEach(async () => {
    for (const storage of opened.splice(0)) await storage.close()
  })
  afterAll(() => postgresDatabase.dropAll())

  it('refuses through one handle a pairing token consumed through another, even concurrently', async () => {
    const url = await postgresDatabase.freshUrl()
    const [first, second] = [await open(url), await open(url)]
    expect(await first.pair('jti-1', enrolment('user-1', 'hash-a'))).toBe(true)
    expect(await second.pair('jti-1', enrolment('user-1', 'hash-b'))).toBe(false)
    const raced = await Promise.all([
      first.pair('jti-2', enrolment('user-2', 'hash-c')),
      second.pair('jti-2', enrolment('user-2', 'hash-d')),
    ])
    expect(raced.filter(Boolean)).toHaveLength(1)
    expect((await second.refreshLookup('hash-a')).status).toBe('current')
  })

  it('keeps cursors strictly increasing under concurrent posts from two handles', async () => {
    const url = await postgresDatabase.freshUrl()
    const [first, second] = [await open(url), await open(url)]
    const posts = Array.from({ length: 40 }, (_, i) =>
      (i % 2 === 0 ? first : second).post([{ to: 'cloud1', message: `m${i}` }]),
    )
    // A reader that moves its cursor past what it has seen must still see every message: no cursor below
    // one already visible is ever committed later.
    const seen: number[] = []
    const reading = (async () => {
      while (seen.length < 40) {
        const entries = await second.mailbox('cloud1', seen.at(-1) ?? 0, 100)
        seen.push(...entries.map((entry) => entry.cursor))
      }
    })()
    const cursors = (await Promise.all(posts)).flat()
    await reading
    expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
    expect(new Set(cursors).size).toBe(40)
    expect([...cursors].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
    const read = await second.mailbox('cloud1', 0, 100)
    expect(read.map((entry) => entry.cursor)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
  })

  it('lets one outcome win when two handles finish a job together', async () => {
    const url = await postgresDatabase.freshUrl()
    const [first, second] = [await open(url), await open(url)]
    await first.createJob(job('j1', ['s1']), [])
    const outcomes = await Promise.all([
      first.finishJob('j1', 'done', { by: 'first' }),
      second.finishJob('j1', 'done', { by: 'second' }),
    ])
    expect(outcomes.filter(Boolean)).toHaveLength(1)
    const winner = outcomes[0] ? 'first' : 'second'
    expect((await second.job('j1'))?.result).toEqual({ by: winner })
  })
})
