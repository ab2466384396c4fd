import type { Migration } from '../migrations.js'

export interface HubLinkTables {
  hub_link_parties: {
    name: string
    kind: string
    party_key: string
    cosigner_id: string
    display_name: string | null
    /** SHA-256 (hex) of the current refresh token; null once revoked. */
    refresh_hash: string | null
    enrolled_at: number
    last_seen: number | null
    /** When the party last said it stops (its WebSocket closed with 1000); it is back once seen after. */
    left_at: number | null
    /** The process (incarnation) the party was last heard from: another one means it restarted. */
    instance: string | null
    revoked_at: number | null
    /** The Ed25519 key (base64url) its configuration-change approvals are signed with; null for a cloud. */
    config_key: string | null
  }
  hub_link_revoked_refresh: { hash: string; party: string; revoked_at: number }
  hub_link_pairing_tokens: { jti: string; party: string; consumed_at: number }
  /** The last cursor handed out per party: cursors never go back, even once acknowledged rows are gone. */
  hub_link_mailbox_heads: { party: string; last_cursor: number }
  hub_link_mailbox: { party: string; cursor: number; message: string; created_at: number }
  hub_link_jobs: {
    id: string
    kind: string
    tx_id: string | null
    attempt: number | null
    algorithm: string
    holders_json: string
    /** A reshare's dealers and the key the new set must carry (`LinkJobReshare`); null for any other job. */
    reshare_json: string | null
    state: string
    result_json: string | null
    created_at: number
    updated_at: number
  }
  hub_link_job_sessions: { session: string; job_id: string }
  /** Each holder's report on a job that needs all of them (a key generation). */
  hub_link_job_reports: { job_id: string; holder: string; result_json: string; at: number }
}

export const HUB_LINK_MIGRATIONS: readonly Migration[] = [
  {
    owner: 'hub-link',
    name: '0001_link',
    up: async (db) => {
      await db.schema
        .createTable('hub_link_parties')
        .addColumn('name', 'text', (column) => column.primaryKey())
        .addColumn('kind', 'text', (column) => column.notNull())
        .addColumn('party_key', 'text', (column) => column.notNull())
        .addColumn('cosigner_id', 'text', (column) => column.notNull())
        .addColumn('display_name', 'text')
        .addColumn('refresh_hash', 'text', (column) => column.unique())
        .addColumn('enrolled_at', 'bigint', (column) => column.notNull())
        .addColumn('last_seen', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .execute()
      await db.schema
        .createTable('hub_link_revoked_refresh')
        .addColumn('hash', 'text', (column) => column.primaryKey())
        .addColumn('party', 'text', (column) => column.notNull())
        .addColumn('revoked_at', 'bigint', (column) => column.notNull())
        .execute()
      await db.schema
        .createTable('hub_link_pairing_tokens')
        .addColumn('jti', 'text', (column) => column.primaryKey())
        .addColumn('party', 'text', (column) => column.notNull())
        .addColumn('consumed_at', 'bigint', (column) => column.notNull())
        .execute()
      await db.schema
        .createTable('hub_link_mailbox_heads')
        .addColumn('party', 'text', (column) => column.primaryKey())
        .addColumn('last_cursor', 'bigint', (column) => column.notNull())
        .execute()
      await db.schema
        .createTable('hub_link_mailbox')
        .addColumn('party', 'text', (column) => column.notNull())
        .addColumn('cursor', 'bigint', (column) => column.notNull())
        .addColumn('message', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addPrimaryKeyConstraint('hub_link_mailbox_pk', ['party', 'cursor'])
        .execute()
      await db.schema
        .createTable('hub_link_jobs')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('kind', 'text', (column) => column.notNull())
        .addColumn('tx_id', 'text')
        .addColumn('attempt', 'bigint')
        .addColumn('algorithm', 'text', (column) => column.notNull())
        .addColumn('holders_json', 'text', (column) => column.notNull())
        .addColumn('state', 'text', (column) => column.notNull())
        .addColumn('result_json', 'text')
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('updated_at', 'bigint', (column) => column.notNull())
        .execute()
      await db.schema.createIndex('hub_link_jobs_by_tx').on('hub_link_jobs').column('tx_id').execute()
      await db.schema
        .createTable('hub_link_job_sessions')
        .addColumn('session', 'text', (column) => column.primaryKey())
        .addColumn('job_id', 'text', (column) => column.notNull())
        .execute()
    },
  },
  {
    owner: 'hub-link',
    name: '0002_job_reports',
    up: async (db) => {
      await db.schema
        .createTable('hub_link_job_reports')
        .addColumn('job_id', 'text', (column) => column.notNull())
        .addColumn('holder', 'text', (column) => column.notNull())
        .addColumn('result_json', 'text', (column) => column.notNull())
        .addColumn('at', 'bigint', (column) => column.notNull())
        .addPrimaryKeyConstraint('hub_link_job_reports_pk', ['job_id', 'holder'])
        .execute()
    },
  },
  {
    owner: 'hub-link',
    name: '0003_job_reshare',
    up: async (db) => {
      await db.schema.alterTable('hub_link_jobs').addColumn('reshare_json', 'text').execute()
    },
  },
  {
    owner: 'hub-link',
    name: '0004_party_left',
    up: async (db) => {
      await db.schema.alterTable('hub_link_parties').addColumn('left_at', 'bigint').execute()
    },
  },
  {
    owner: 'hub-link',
    name: '0005_config_keys',
    up: async (db) => {
      await db.schema.alterTable('hub_link_parties').addColumn('config_key', 'text').execute()
    },
  },
  {
    owner: 'hub-link',
    name: '0006_party_instance',
    up: async (db) => {
      await db.schema.alterTable('hub_link_parties').addColumn('instance', 'text').execute()
    },
  },
]
