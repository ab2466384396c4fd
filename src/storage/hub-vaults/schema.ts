import { sql } from 'kysely'
import type { Migration } from '../migrations.js'

/** Booleans are stored as 0/1: SQLite has no boolean type. */
export interface HubVaultTables {
  hub_vault_counters: { name: string; next_value: number }
  hub_vault_accounts: {
    id: number
    name: string
    hidden_on_ui: number
    customer_ref_id: string | null
    auto_fuel: number
    created_at: number
  }
  hub_vault_wallets: { vault_id: number; asset_id: string; created_at: number }
  hub_vault_addresses: {
    vault_id: number
    asset_id: string
    bip44_index: number
    address: string
    /** JSON array of the BIP44 path, e.g. `[44,1,7,0,0]`. */
    derivation_path: string
    address_format: string
    legacy_address: string
    description: string
    customer_ref_id: string
    type: string
    created_at: number
  }
  hub_vault_ledger: {
    entry_id: string
    vault_id: number
    asset_id: string
    /** A signed integer in the asset's base units, as decimal text: wei amounts overflow SQLite's integers. */
    delta: string
    state: string
    reason: string
    tx_id: string | null
    at: number
    state_at: number
  }
}

/** The counter that numbers vault accounts "0", "1", ...: one row, incremented inside the creating transaction. */
export const VAULT_ACCOUNT_COUNTER = 'vault_accounts'

export const HUB_VAULT_MIGRATIONS: readonly Migration[] = [
  {
    owner: 'hub-vaults',
    name: '0001_vaults',
    up: async (db) => {
      await db.schema
        .createTable('hub_vault_counters')
        .addColumn('name', 'text', (column) => column.primaryKey())
        .addColumn('next_value', 'bigint', (column) => column.notNull())
        .execute()
      await sql`INSERT INTO hub_vault_counters (name, next_value) VALUES (${VAULT_ACCOUNT_COUNTER}, 0)`.execute(
        db,
      )
      await db.schema
        .createTable('hub_vault_accounts')
        .addColumn('id', 'bigint', (column) => column.primaryKey())
        .addColumn('name', 'text', (column) => column.notNull())
        .addColumn('hidden_on_ui', 'integer', (column) => column.notNull())
        .addColumn('customer_ref_id', 'text')
        .addColumn('auto_fuel', 'integer', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .execute()
      await db.schema
        .createTable('hub_vault_wallets')
        .addColumn('vault_id', 'bigint', (column) => column.notNull().references('hub_vault_accounts.id'))
        .addColumn('asset_id', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addPrimaryKeyConstraint('hub_vault_wallets_pk', ['vault_id', 'asset_id'])
        .execute()
      await db.schema
        .createTable('hub_vault_addresses')
        .addColumn('vault_id', 'bigint', (column) => column.notNull())
        .addColumn('asset_id', 'text', (column) => column.notNull())
        .addColumn('bip44_index', 'bigint', (column) => column.notNull())
        .addColumn('address', 'text', (column) => column.notNull())
        .addColumn('derivation_path', 'text', (column) => column.notNull())
        .addColumn('address_format', 'text', (column) => column.notNull())
        .addColumn('legacy_address', 'text', (column) => column.notNull())
        .addColumn('description', 'text', (column) => column.notNull())
        .addColumn('customer_ref_id', 'text', (column) => column.notNull())
        .addColumn('type', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addPrimaryKeyConstraint('hub_vault_addresses_pk', ['vault_id', 'asset_id', 'bip44_index'])
        .addForeignKeyConstraint(
          'hub_vault_addresses_wallet',
          ['vault_id', 'asset_id'],
          'hub_vault_wallets',
          ['vault_id', 'asset_id'],
        )
        .execute()
      // Deposits are attributed to a wallet by their address.
      await db.schema
        .createIndex('hub_vault_addresses_by_address')
        .on('hub_vault_addresses')
        .columns(['asset_id', 'address'])
        .execute()
      await db.schema
        .createTable('hub_vault_ledger')
        .addColumn('entry_id', 'text', (column) => column.primaryKey())
        .addColumn('vault_id', 'bigint', (column) => column.notNull())
        .addColumn('asset_id', 'text', (column) => column.notNull())
        .addColumn('delta', 'text', (column) => column.notNull())
        .addColumn('state', 'text', (column) => column.notNull())
        .addColumn('reason', 'text', (column) => column.notNull())
        .addColumn('tx_id', 'text')
        .addColumn('at', 'bigint', (column) => column.notNull())
        .addColumn('state_at', 'bigint', (column) => column.notNull())
        .execute()
      await db.schema
        .createIndex('hub_vault_ledger_by_wallet')
        .on('hub_vault_ledger')
        .columns(['vault_id', 'asset_id'])
        .execute()
    },
  },
]
