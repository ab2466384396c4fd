/** The hub's vault accounts, wallets, deposit addresses and balance ledger. */
export { vaultStore } from './store.js'
/** In the caller's write: a transaction's movements commit with its status change. */
export { applyLedgerEntries, closeLedgerEntries } from './ledger.js'
export type { VaultStore } from './store.js'
export type { NewVaultAccount, VaultAccountFilter, VaultAccountRecord } from './accounts.js'
export type { LedgerEntry, LedgerState, LedgerSums, WalletBalance, WalletKey } from './ledger.js'
export type { AddressRecord, NewAddress, WalletRecord } from './wallets.js'
export type { Page, PageCursor, PageRequest, SortOrder } from './paging.js'
export { HUB_VAULT_MIGRATIONS } from './schema.js'
