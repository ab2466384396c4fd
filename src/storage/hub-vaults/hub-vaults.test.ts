import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { ManualClock } from '../../core/index.js'
import { testDatabases } from '../../../test/support/databases.js'
import {
  HUB_VAULT_MIGRATIONS,
  RecordRefused,
  StoreConflict,
  migrate,
  openDatabase,
  vaultStore,
  type LedgerEntry,
  type NewAddress,
  type StorageDatabase,
  type VaultStore,
} from '../index.js'

const account = (name: string) => ({ name, hiddenOnUI: false, customerRefId: null, autoFuel: false })

const address = (vaultId: string, assetId: string, bip44Index: number): NewAddress => ({
  vaultId,
  assetId,
  bip44Index,
  address: `addr-${vaultId}-${assetId}-${bip44Index}`,
  derivationPath: [44, 1, Number(vaultId), 0, bip44Index],
  format: 'SEGWIT',
  legacyAddress: '',
  description: '',
  customerRefId: '',
  type: 'Permanent',
})

const entry = (entryId: string, delta: string, state: LedgerEntry['state'] = 'settled'): LedgerEntry => ({
  entryId,
  vaultId: '0',
  assetId: 'ETH_TEST',
  delta,
  state,
  reason: 'deposit',
  txId: null,
})

describe.each(testDatabases)('hub vault store on $name', (database) => {
  const opened: StorageDatabase[] = []
  const clock = new ManualClock(1_700_000_000_000)
  const open = async (url?: string) => {
    const db = openDatabase(url ?? (await database.freshUrl()))
    opened.push(db)
    await migrate(db, HUB_VAULT_MIGRATIONS, clock.now())
    return vaultStore(db, clock)
  }
  afterEach(async () => {
    for (const db of opened.splice(0)) await db.close()
  })
  afterAll(() => database.dropAll())

  it('numbers accounts "0", "1", ... in creation order and reads them back', async () => {
    const store = await open()
    const first = await store.createAccount({ ...account('alpha'), customerRefId: 'ref-1', hiddenOnUI: true })
    const second = await store.createAccount(account('beta'))
    expect([first.id, second.id]).toEqual(['0', '1'])
    expect(await store.readAccount('0')).toEqual({
      id: '0',
      name: 'alpha',
      hiddenOnUI: true,
      customerRefId: 'ref-1',
      autoFuel: false,
      createdAt: clock.now(),
    })
    expect(await store.readAccount('2')).toBeUndefined()
    expect(await store.readAccount('01')).toBeUndefined()
    expect(await store.readAccount('x')).toBeUndefined()
  })

  it('gives unique ids to accounts created concurrently through two handles on one database', async () => {
    const url = await database.freshUrl()
    const [a, b] = [await open(url), await open(url)]
    const created = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).createAccount(account(`acct-${i}`))),
    )
    const ids = created.map((record) => Number(record.id)).sort((x, y) => x - y)
    expect(ids).toEqual(Array.from({ length: 40 }, (_, i) => i))
  })

  it('pages accounts both ways in either order, saying which sides have more', async () => {
    const store = await open()
    for (let i = 0; i < 5; i++) await store.createAccount(account(`v${i}`))
    const ids = (page: { items: readonly { id: string }[] }) => page.items.map((item) => item.id)
    const first = await store.pageAccounts({}, { order: 'ASC', limit: 2 })
    expect([ids(first), first.hasBefore, first.hasAfter]).toEqual([['0', '1'], false, true])
    const second = await store.pageAccounts({}, { order: 'ASC', limit: 2, cursor: { after: 1 } })
    expect([ids(second), second.hasBefore, second.hasAfter]).toEqual([['2', '3'], true, true])
    const last = await store.pageAccounts({}, { order: 'ASC', limit: 2, cursor: { after: 3 } })
    expect([ids(last), last.hasBefore, last.hasAfter]).toEqual([['4'], true, false])
    const back = await store.pageAccounts({}, { order: 'ASC', limit: 2, cursor: { before: 4 } })
    expect(ids(back)).toEqual(['2', '3'])
    const newest = await store.pageAccounts({}, { order: 'DESC', limit: 2 })
    expect(ids(newest)).toEqual(['4', '3'])
    const older = await store.pageAccounts({}, { order: 'DESC', limit: 2, cursor: { after: 3 } })
    expect(ids(older)).toEqual(['2', '1'])
    const newer = await store.pageAccounts({}, { order: 'DESC', limit: 2, cursor: { before: 2 } })
    expect([ids(newer), newer.hasBefore]).toEqual([['4', '3'], false])
  })

  it('filters by name prefix and suffix literally and case-sensitively, and by asset held', async () => {
    const store = await open()
    for (const name of ['Hot-1', 'hot-2', 'hot%', 'cold', 'a']) await store.createAccount(account(name))
    await store.addWallet(address('3', 'BTC_TEST', 0))
    const names = async (filter: Parameters<VaultStore['pageAccounts']>[0]) =>
      (await store.pageAccounts(filter, { order: 'ASC', limit: 10 })).items.map((item) => item.name)
    expect(await names({ namePrefix: 'hot' })).toEqual(['hot-2', 'hot%'])
    expect(await names({ namePrefix: 'hot%' })).toEqual(['hot%'])
    expect(await names({ nameSuffix: '-2' })).toEqual(['hot-2'])
    expect(await names({ nameSuffix: 'xa' })).toEqual([])
    expect(await names({ assetId: 'BTC_TEST' })).toEqual(['cold'])
  })

  it('creates a wallet once, keeps its first address, and refuses a taken address index', async () => {
    const store = await open()
    await store.createAccount(account('w'))
    expect(await store.addWallet(address('0', 'BTC_TEST', 0))).toBe(true)
    expect(await store.addWallet({ ...address('0', 'BTC_TEST', 0), address: 'other' })).toBe(false)
    expect(await store.addAddress(address('0', 'BTC_TEST', 1))).toBe(true)
    expect(await store.addAddress({ ...address('0', 'BTC_TEST', 1), address: 'other' })).toBe(false)
    expect(await store.lastAddressIndex({ vaultId: '0', assetId: 'BTC_TEST' })).toBe(1)
    const listed = await store.listAddresses({ vaultId: '0', assetId: 'BTC_TEST' })
    expect(listed.map((item) => [item.bip44Index, item.address, item.derivationPath])).toEqual([
      [0, 'addr-0-BTC_TEST-0', [44, 1, 0, 0, 0]],
      [1, 'addr-0-BTC_TEST-1', [44, 1, 0, 0, 1]],
    ])
    expect(await store.listWallets(['0'])).toEqual([
      { vaultId: '0', assetId: 'BTC_TEST', createdAt: clock.now() },
    ])
  })

  it('applies a ledger entry id once, and refuses the id reused for another movement', async () => {
    const store = await open()
    await store.createAccount(account('l'))
    // 20 ETH in wei: beyond SQLite's 64-bit integers.
    const deposit = entry('dep-1', '20000000000000000000')
    expect(await store.applyEntries([deposit])).toEqual(['dep-1'])
    expect(await store.applyEntries([deposit])).toEqual([])
    const both = await Promise.all([
      store.applyEntries([entry('dep-2', '5')]),
      store.applyEntries([entry('dep-2', '5')]),
    ])
    expect(both.flat()).toEqual(['dep-2'])
    await expect(store.applyEntries([entry('dep-1', '1')])).rejects.toBeInstanceOf(StoreConflict)
    const [balance] = await store.balances([{ vaultId: '0', assetId: 'ETH_TEST' }])
    expect(balance?.settled).toBe(20_000_000_000_000_000_005n)
  })

  it('keeps pending debits and credits apart until they settle or are voided', async () => {
    const store = await open()
    await store.createAccount(account('p'))
    await store.applyEntries([
      entry('in', '100'),
      entry('out', '-30', 'pending'),
      entry('incoming', '7', 'pending'),
    ])
    const wallet = { vaultId: '0', assetId: 'ETH_TEST' }
    expect(await store.balances([wallet])).toEqual([
      { ...wallet, settled: 100n, pendingDebits: 30n, pendingCredits: 7n },
    ])
    expect(await store.closeEntries(['out'], 'settled')).toEqual(['out'])
    expect(await store.closeEntries(['out'], 'settled')).toEqual([])
    await expect(store.closeEntries(['out'], 'void')).rejects.toBeInstanceOf(StoreConflict)
    await expect(store.closeEntries(['nope'], 'void')).rejects.toBeInstanceOf(StoreConflict)
    expect(await store.closeEntries(['incoming'], 'void')).toEqual(['incoming'])
    expect(await store.balances([wallet])).toEqual([
      { ...wallet, settled: 70n, pendingDebits: 0n, pendingCredits: 0n },
    ])
    expect(await store.assetTotals({ namePrefix: 'p' })).toEqual(
      new Map([['ETH_TEST', { settled: 70n, pendingDebits: 0n, pendingCredits: 0n }]]),
    )
    expect(await store.assetTotals({ namePrefix: 'q' })).toEqual(new Map())
  })

  it('refuses text and amounts it could not store faithfully', async () => {
    const store = await open()
    await expect(store.createAccount(account('nul\u0000'))).rejects.toBeInstanceOf(RecordRefused)
    await expect(store.applyEntries([entry('e', '1.5')])).rejects.toBeInstanceOf(RecordRefused)
    await expect(store.applyEntries([entry('e', '-0')])).rejects.toBeInstanceOf(RecordRefused)
  })
})
