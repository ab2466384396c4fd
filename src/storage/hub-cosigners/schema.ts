import type { Migration } from '../migrations.js'

export interface HubCosignerTables {
  /** A name an Admin gave a co-signer (`renameCosigner`); without one, the name it paired with is shown. */
  hub_cosigner_names: { cosigner_id: string; name: string; renamed_at: number }
  /** The callback handler of each API user, valid only while its party is enrolled under `cosigner_id`. */
  hub_cosigner_callbacks: {
    api_user_id: string
    cosigner_id: string
    url: string
    public_key: string | null
    cert: string | null
    cert_public_key_hash: string | null
    updated_at: number
  }
  /** The asynchronous commands of the co-signers API (pair, update the handler, unpair) and their status. */
  hub_cosigner_requests: {
    id: string
    cosigner_id: string
    api_user_id: string
    type: string
    status: string
    created_at: number
  }
}

export const HUB_COSIGNER_MIGRATIONS: readonly Migration[] = [
  {
    owner: 'hub-cosigners',
    name: '0001_cosigners',
    up: async (db) => {
      await db.schema
        .createTable('hub_cosigner_names')
        .addColumn('cosigner_id', 'text', (column) => column.primaryKey())
        .addColumn('name', 'text', (column) => column.notNull())
        .addColumn('renamed_at', 'bigint', (column) => column.notNull())
        .execute()
      await db.schema
        .createTable('hub_cosigner_callbacks')
        .addColumn('api_user_id', 'text', (column) => column.primaryKey())
        .addColumn('cosigner_id', 'text', (column) => column.notNull())
        .addColumn('url', 'text', (column) => column.notNull())
        .addColumn('public_key', 'text')
        .addColumn('cert', 'text')
        .addColumn('cert_public_key_hash', 'text')
        .addColumn('updated_at', 'bigint', (column) => column.notNull())
        .execute()
      await db.schema
        .createTable('hub_cosigner_requests')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('cosigner_id', 'text', (column) => column.notNull())
        .addColumn('api_user_id', 'text', (column) => column.notNull())
        .addColumn('type', 'text', (column) => column.notNull())
        .addColumn('status', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .execute()
    },
  },
]
