import { sql } from 'kysely'
import type { Migration } from '../migrations.js'

/** The hub's transactions, their status history and approvals, and the workspace's threshold keys. */
export interface HubTransactionTables {
  hub_transactions: {
    id: string
    external_tx_id: string | null
    created_by: string
    operation: string
    asset_id: string
    source_id: string | null
    status: string
    sub_status: string
    request_json: string
    detail_json: string
    rule_id: string | null
    signer: string | null
    attempt: number
    created_at: number
    last_updated: number
    /** Until when the attempt in PENDING_SIGNATURE holds the transaction (epoch ms); null otherwise. */
    lease_until: number | null
  }
  hub_transaction_history: {
    tx_id: string
    seq: number
    status: string
    sub_status: string
    at: number
  }
  hub_transaction_votes: {
    tx_id: string
    user_id: string
    vote: string
    at: number
  }
  hub_workspace_keys: {
    algorithm: string
    public_key: string
    chain_code: string
    created_at: number
  }
  hub_key_sets: {
    party: string
    algorithm: string
    public_key: string
    created_at: number
  }
}

export const HUB_TRANSACTION_MIGRATIONS: readonly Migration[] = [
  {
    owner: 'hub-transactions',
    name: '0001_transactions',
    up: async (db) => {
      await db.schema
        .createTable('hub_transactions')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('external_tx_id', 'text')
        .addColumn('created_by', 'text', (column) => column.notNull())
        .addColumn('operation', 'text', (column) => column.notNull())
        .addColumn('asset_id', 'text', (column) => column.notNull())
        .addColumn('source_id', 'text')
        .addColumn('status', 'text', (column) => column.notNull())
        .addColumn('sub_status', 'text', (column) => column.notNull())
        .addColumn('request_json', 'text', (column) => column.notNull())
        .addColumn('detail_json', 'text', (column) => column.notNull())
        .addColumn('rule_id', 'text')
        .addColumn('signer', 'text')
        .addColumn('attempt', 'integer', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('last_updated', 'bigint', (column) => column.notNull())
        .execute()
      // "Fireblocks will automatically reject all future transactions with the same ID": unique when given.
      await sql`CREATE UNIQUE INDEX hub_transactions_external ON hub_transactions (external_tx_id)
                WHERE external_tx_id IS NOT NULL`.execute(db)
      await db.schema
        .createIndex('hub_transactions_by_status')
        .on('hub_transactions')
        .columns(['status', 'created_at'])
        .execute()
      await db.schema
        .createIndex('hub_transactions_by_time')
        .on('hub_transactions')
        .columns(['created_at', 'id'])
        .execute()
      await db.schema
        .createTable('hub_transaction_history')
        .addColumn('tx_id', 'text', (column) => column.notNull())
        .addColumn('seq', 'integer', (column) => column.notNull())
        .addColumn('status', 'text', (column) => column.notNull())
        .addColumn('sub_status', 'text', (column) => column.notNull())
        .addColumn('at', 'bigint', (column) => column.notNull())
        .addPrimaryKeyConstraint('hub_transaction_history_pk', ['tx_id', 'seq'])
        .execute()
      await db.schema
        .createTable('hub_transaction_votes')
        .addColumn('tx_id', 'text', (column) => column.notNull())
        .addColumn('user_id', 'text', (column) => column.notNull())
        .addColumn('vote', 'text', (column) => column.notNull())
        .addColumn('at', 'bigint', (column) => column.notNull())
        .addPrimaryKeyConstraint('hub_transaction_votes_pk', ['tx_id', 'user_id'])
        .execute()
      await db.schema
        .createTable('hub_workspace_keys')
        .addColumn('algorithm', 'text', (column) => column.primaryKey())
        .addColumn('public_key', 'text', (column) => column.notNull())
        .addColumn('chain_code', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .execute()
      await db.schema
        .createTable('hub_key_sets')
        .addColumn('party', 'text', (column) => column.notNull())
        .addColumn('algorithm', 'text', (column) => column.notNull())
        .addColumn('public_key', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addPrimaryKeyConstraint('hub_key_sets_pk', ['party', 'algorithm'])
        .execute()
    },
  },
  {
    owner: 'hub-transactions',
    name: '0002_signing_lease',
    up: async (db) => {
      // A row left in PENDING_SIGNATURE by an older hub has no lease: it is expired, so taken over.
      await db.schema.alterTable('hub_transactions').addColumn('lease_until', 'bigint').execute()
    },
  },
]
