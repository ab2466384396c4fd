import { tables, type Executor } from '../database/index.js'
import { keysetPage, type Page, type PageRequest } from './paging.js'
import type { HubVaultTables } from './schema.js'
import type { WalletKey } from './ledger.js'

export interface WalletRecord extends WalletKey {
  readonly createdAt: number
}

export interface NewAddress extends WalletKey {
  readonly bip44Index: number
  readonly address: string
  readonly derivationPath: readonly number[]
  /** SEGWIT, LEGACY, BASE or PAYMENT (hub-api.md §3.6). */
  readonly format: string
  readonly legacyAddress: string
  readonly description: string
  readonly customerRefId: string
  /** "Permanent" for derived deposit addresses. */
  readonly type: string
}

export interface AddressRecord extends NewAddress {
  readonly createdAt: number
}

type AddressRow = HubVaultTables['hub_vault_addresses']

function toAddress(row: AddressRow): AddressRecord {
  return {
    vaultId: String(row.vault_id),
    assetId: row.asset_id,
    bip44Index: Number(row.bip44_index),
    address: row.address,
    derivationPath: JSON.parse(row.derivation_path) as number[],
    format: row.address_format,
    legacyAddress: row.legacy_address,
    description: row.description,
    customerRefId: row.customer_ref_id,
    type: row.type,
    createdAt: Number(row.created_at),
  }
}

function toRow(address: NewAddress, now: number): AddressRow {
  return {
    vault_id: Number(address.vaultId),
    asset_id: address.assetId,
    bip44_index: address.bip44Index,
    address: address.address,
    derivation_path: JSON.stringify(address.derivationPath),
    address_format: address.format,
    legacy_address: address.legacyAddress,
    description: address.description,
    customer_ref_id: address.customerRefId,
    type: address.type,
    created_at: now,
  }
}

/**
 * Adds a wallet with its first deposit address, or leaves an existing wallet as it is (creating a wallet
 * twice is answered with the first one). Returns whether the wallet is new.
 */
export async function addWallet(db: Executor, firstAddress: NewAddress, now: number): Promise<boolean> {
  const inserted = await tables<HubVaultTables>(db)
    .insertInto('hub_vault_wallets')
    .values({ vault_id: Number(firstAddress.vaultId), asset_id: firstAddress.assetId, created_at: now })
    .onConflict((conflict) => conflict.columns(['vault_id', 'asset_id']).doNothing())
    .returning('vault_id')
    .execute()
  if (inserted.length === 0) return false
  await addAddress(db, firstAddress, now)
  return true
}

/** Adds a deposit address unless its index is taken (another replica derived it first): then false. */
export async function addAddress(db: Executor, address: NewAddress, now: number): Promise<boolean> {
  const inserted = await tables<HubVaultTables>(db)
    .insertInto('hub_vault_addresses')
    .values(toRow(address, now))
    .onConflict((conflict) => conflict.columns(['vault_id', 'asset_id', 'bip44_index']).doNothing())
    .returning('bip44_index')
    .execute()
  return inserted.length > 0
}

/** The wallets of the given accounts, by account then asset. */
export async function listWallets(db: Executor, vaultIds: readonly string[]): Promise<WalletRecord[]> {
  if (vaultIds.length === 0) return []
  const rows = await tables<HubVaultTables>(db)
    .selectFrom('hub_vault_wallets')
    .selectAll()
    .where('vault_id', 'in', vaultIds.map(Number))
    .orderBy('vault_id')
    .orderBy('asset_id')
    .execute()
  return rows.map((row) => ({
    vaultId: String(row.vault_id),
    assetId: row.asset_id,
    createdAt: Number(row.created_at),
  }))
}

export async function readWallet(db: Executor, key: WalletKey): Promise<WalletRecord | undefined> {
  const row = await tables<HubVaultTables>(db)
    .selectFrom('hub_vault_wallets')
    .selectAll()
    .where('vault_id', '=', Number(key.vaultId))
    .where('asset_id', '=', key.assetId)
    .executeTakeFirst()
  return row === undefined
    ? undefined
    : { vaultId: String(row.vault_id), assetId: row.asset_id, createdAt: Number(row.created_at) }
}

function walletAddresses(db: Executor, key: WalletKey) {
  return tables<HubVaultTables>(db)
    .selectFrom('hub_vault_addresses')
    .selectAll()
    .where('vault_id', '=', Number(key.vaultId))
    .where('asset_id', '=', key.assetId)
}

/** A wallet's addresses by BIP44 index, lowest first. */
export async function listAddresses(db: Executor, key: WalletKey): Promise<AddressRecord[]> {
  const rows = await walletAddresses(db, key).orderBy('bip44_index', 'asc').execute()
  return rows.map(toAddress)
}

export function pageAddresses(
  db: Executor,
  key: WalletKey,
  request: PageRequest,
): Promise<Page<AddressRecord>> {
  return keysetPage(
    request,
    (address) => address.bip44Index,
    async (from, sort, limit) => {
      let query = walletAddresses(db, key)
      if (from !== undefined) query = query.where('bip44_index', from.op, from.key)
      return (await query.orderBy('bip44_index', sort).limit(limit).execute()).map(toAddress)
    },
  )
}

/** The highest BIP44 index in use in a wallet, or undefined when it has no address. */
export async function lastAddressIndex(db: Executor, key: WalletKey): Promise<number | undefined> {
  const row = await walletAddresses(db, key).orderBy('bip44_index', 'desc').limit(1).executeTakeFirst()
  return row === undefined ? undefined : Number(row.bip44_index)
}
