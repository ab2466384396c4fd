import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { testDatabases } from '../../../test/support/databases.js'
import {
  HUB_TRANSACTION_MIGRATIONS,
  insertTransaction,
  listTransactions,
  migrate,
  openDatabase,
  putWorkspaceKey,
  readTransaction,
  readTransactionByExternalId,
  readTransactionHistory,
  readTransactionVotes,
  readWorkspaceKeys,
  recordTransactionVote,
  StoreConflict,
  transitionTransaction,
  type HubTransaction,
  type StorageDatabase,
} from '../index.js'

const T0 = 1_767_225_600_000

function transaction(id: string, overrides: Partial<HubTransaction> = {}): HubTransaction {
  return {
    id,
    externalTxId: null,
    createdBy: 'api-user-1',
    operation: 'RAW',
    assetId: 'ETH_TEST6',
    sourceId: '0',
    status: 'SUBMITTED',
    subStatus: '',
    request: { operation: 'RAW' },
    detail: {},
    ruleId: null,
    signer: null,
    attempt: 0,
    createdAt: T0,
    lastUpdated: T0,
    ...overrides,
  }
}

describe.each(testDatabases)('hub transactions on $name', (database) => {
  const opened: StorageDatabase[] = []
  const open = async (url?: string) => {
    const target = url ?? (await database.freshUrl())
    const db = openDatabase(target)
    opened.push(db)
    await migrate(db, HUB_TRANSACTION_MIGRATIONS, T0)
    return { db, url: target }
  }
  afterEach(async () => {
    for (const db of opened.splice(0)) await db.close()
  })
  afterAll(() => database.dropAll())

  it('refuses a second transaction with the same externalTxId, and finds the first by it', async () => {
    const { db } = await open()
    await db.write((s) => insertTransaction(s, transaction('a', { externalTxId: 'ext-1' })))
    await expect(
      db.write((s) => insertTransaction(s, transaction('b', { externalTxId: 'ext-1' }))),
    ).rejects.toBeInstanceOf(StoreConflict)
    await db.write((s) => insertTransaction(s, transaction('c')))
    await db.write((s) => insertTransaction(s, transaction('d')))
    expect((await db.read((r) => readTransactionByExternalId(r, 'ext-1')))?.id).toBe('a')
    expect(await db.read((r) => readTransaction(r, 'b'))).toBeUndefined()
  })

  it('moves a transaction only from the statuses named, and keeps the timeline', async () => {
    const { db } = await open()
    await db.write((s) => insertTransaction(s, transaction('a')))
    const queued = await db.write((s) =>
      transitionTransaction(s, 'a', { from: ['SUBMITTED'], status: 'QUEUED', at: T0 + 1, ruleId: 'r1' }),
    )
    expect(queued).toMatchObject({ status: 'QUEUED', ruleId: 'r1', lastUpdated: T0 + 1 })
    const again = await db.write((s) =>
      transitionTransaction(s, 'a', { from: ['SUBMITTED'], status: 'BLOCKED', at: T0 + 2 }),
    )
    expect(again).toBeUndefined()
    await db.write((s) =>
      transitionTransaction(s, 'a', {
        from: ['QUEUED'],
        status: 'COMPLETED',
        subStatus: 'CONFIRMED',
        detail: { txHash: '0xab' },
        at: T0 + 3,
      }),
    )
    const history = await db.read((r) => readTransactionHistory(r, 'a'))
    expect(history.map((h) => h.status)).toEqual(['SUBMITTED', 'QUEUED', 'COMPLETED'])
    expect((await db.read((r) => readTransaction(r, 'a')))?.detail).toEqual({ txHash: '0xab' })
  })

  it('lets one of two handles on the same database win a race for one transaction', async () => {
    const first = await open()
    const second = await open(first.url)
    await first.db.write((s) => insertTransaction(s, transaction('race', { status: 'QUEUED' })))
    const claims = await Promise.all(
      [first.db, second.db, first.db, second.db].map((db, attempt) =>
        db.write((s) =>
          transitionTransaction(s, 'race', {
            from: ['QUEUED'],
            status: 'PENDING_SIGNATURE',
            attempt: attempt + 1,
            at: T0 + 5,
          }),
        ),
      ),
    )
    expect(claims.filter((claim) => claim !== undefined)).toHaveLength(1)
  })

  it('pages transactions in both orders without repeating one', async () => {
    const { db } = await open()
    for (let i = 0; i < 5; i++)
      await db.write((s) => insertTransaction(s, transaction(`t${i}`, { createdAt: T0 + (i % 2) })))
    const seen: string[] = []
    let cursor: { createdAt: number; id: string } | undefined
    for (;;) {
      const page = await db.read((r) =>
        listTransactions(r, { sort: 'DESC', limit: 2, ...(cursor ? { cursor } : {}) }),
      )
      if (page.length === 0) break
      seen.push(...page.map((t) => t.id))
      const last = page.at(-1) as HubTransaction
      cursor = { createdAt: last.createdAt, id: last.id }
    }
    expect(seen).toEqual(['t3', 't1', 't4', 't2', 't0'])
    const asc = await db.read((r) => listTransactions(r, { sort: 'ASC', limit: 10, assets: ['ETH_TEST6'] }))
    expect(asc.map((t) => t.id)).toEqual(['t0', 't2', 't4', 't1', 't3'])
  })

  it('takes one vote per approver and one root key per algorithm', async () => {
    const { db } = await open()
    await db.write((s) => recordTransactionVote(s, 'a', { userId: 'u1', vote: 'APPROVED', at: T0 }))
    await expect(
      db.write((s) => recordTransactionVote(s, 'a', { userId: 'u1', vote: 'REJECTED', at: T0 })),
    ).rejects.toBeInstanceOf(StoreConflict)
    expect(await db.read((r) => readTransactionVotes(r, 'a'))).toEqual([
      { userId: 'u1', vote: 'APPROVED', at: T0 },
    ])
    const key = { algorithm: 'MPC_ECDSA_SECP256K1', publicKey: '02ab', chainCode: '00' }
    await db.write((s) => putWorkspaceKey(s, key, T0))
    await db.write((s) => putWorkspaceKey(s, key, T0 + 1))
    await expect(
      db.write((s) => putWorkspaceKey(s, { ...key, publicKey: '03cd' }, T0)),
    ).rejects.toBeInstanceOf(StoreConflict)
    expect(await db.read(readWorkspaceKeys)).toEqual([key])
  })
})
