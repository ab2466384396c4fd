import { CountersignError, isWellFormedText, type Clock } from '../../core/index.js'
import type { Executor, StorageDatabase } from '../database/index.js'
import { RecordRefused, StoreUnavailable } from '../errors.js'
import {
  createVaultAccount,
  pageVaultAccounts,
  readVaultAccount,
  type NewVaultAccount,
  type VaultAccountFilter,
  type VaultAccountRecord,
} from './accounts.js'
import {
  applyLedgerEntries,
  closeLedgerEntries,
  readAssetTotals,
  readBalances,
  type LedgerEntry,
  type LedgerSums,
  type WalletBalance,
  type WalletKey,
} from './ledger.js'
import type { Page, PageRequest } from './paging.js'
import {
  addAddress,
  addWallet,
  lastAddressIndex,
  listAddresses,
  listWallets,
  pageAddresses,
  readWallet,
  type AddressRecord,
  type NewAddress,
  type WalletRecord,
} from './wallets.js'

/**
 * The hub's vault accounts, their wallets and deposit addresses, and the balance ledger, over a database
 * the caller opened and migrated with `HUB_VAULT_MIGRATIONS`. Every database failure is a StoreUnavailable.
 */
export interface VaultStore {
  createAccount(account: NewVaultAccount): Promise<VaultAccountRecord>
  readAccount(id: string): Promise<VaultAccountRecord | undefined>
  pageAccounts(filter: VaultAccountFilter, request: PageRequest): Promise<Page<VaultAccountRecord>>
  /** Adds the wallet with its first address; false when the wallet existed (it is left unchanged). */
  addWallet(firstAddress: NewAddress): Promise<boolean>
  readWallet(key: WalletKey): Promise<WalletRecord | undefined>
  listWallets(vaultIds: readonly string[]): Promise<WalletRecord[]>
  /** False when the address's BIP44 index is already taken. */
  addAddress(address: NewAddress): Promise<boolean>
  lastAddressIndex(key: WalletKey): Promise<number | undefined>
  listAddresses(key: WalletKey): Promise<AddressRecord[]>
  pageAddresses(key: WalletKey, request: PageRequest): Promise<Page<AddressRecord>>
  /** Applies each entry once, in one transaction; returns the ids applied now (replays are skipped). */
  applyEntries(entries: readonly LedgerEntry[]): Promise<string[]>
  /** Moves pending entries to settled or void; returns the ids moved now. */
  closeEntries(entryIds: readonly string[], to: 'settled' | 'void'): Promise<string[]>
  balances(wallets: readonly WalletKey[]): Promise<WalletBalance[]>
  /** Per asset, over the accounts matching `filter`. */
  assetTotals(filter: VaultAccountFilter): Promise<Map<string, LedgerSums>>
}

const MAX_TEXT_LENGTH = 1_024

/** Text both databases store exactly: well-formed, without NUL (PostgreSQL refuses it), bounded. */
function checkText(what: string, value: string | null): void {
  if (value === null) return
  if (!isWellFormedText(value) || value.includes('\u0000') || value.length > MAX_TEXT_LENGTH)
    throw new RecordRefused(
      `${what} must be well-formed text without NUL, at most ${MAX_TEXT_LENGTH} characters`,
    )
}

function checkAddress(address: NewAddress): void {
  for (const [what, value] of Object.entries(address))
    if (typeof value === 'string') checkText(`address ${what}`, value)
}

/** Wraps every database failure so callers can fail closed on one error type. */
async function guarded<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (error instanceof CountersignError) throw error
    throw new StoreUnavailable(`vault store ${what} failed`, { cause: error })
  }
}

const NUMERIC_ID = /^(0|[1-9]\d{0,14})$/

export function vaultStore(database: StorageDatabase, clock: Clock): VaultStore {
  const write = <T>(work: (db: Executor) => Promise<T>) =>
    guarded('write', () => database.write((session) => work(session.db)))
  const read = <T>(work: (db: Executor) => Promise<T>) => guarded('read', () => database.read(work))
  return {
    createAccount: async (account) => {
      checkText('vault account name', account.name)
      checkText('vault account customerRefId', account.customerRefId)
      return write((db) => createVaultAccount(db, account, clock.now()))
    },
    readAccount: async (id) =>
      NUMERIC_ID.test(id) ? read((db) => readVaultAccount(db, Number(id))) : undefined,
    pageAccounts: (filter, request) => read((db) => pageVaultAccounts(db, filter, request)),
    addWallet: async (firstAddress) => {
      checkAddress(firstAddress)
      return write((db) => addWallet(db, firstAddress, clock.now()))
    },
    readWallet: (key) => read((db) => readWallet(db, key)),
    listWallets: (vaultIds) => read((db) => listWallets(db, vaultIds)),
    addAddress: async (address) => {
      checkAddress(address)
      return write((db) => addAddress(db, address, clock.now()))
    },
    lastAddressIndex: (key) => read((db) => lastAddressIndex(db, key)),
    listAddresses: (key) => read((db) => listAddresses(db, key)),
    pageAddresses: (key, request) => read((db) => pageAddresses(db, key, request)),
    applyEntries: (entries) => write((db) => applyLedgerEntries(db, entries, clock.now())),
    closeEntries: (entryIds, to) => write((db) => closeLedgerEntries(db, entryIds, to, clock.now())),
    balances: (wallets) => read((db) => readBalances(db, wallets)),
    assetTotals: (filter) => read((db) => readAssetTotals(db, filter)),
  }
}
