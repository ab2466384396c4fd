import type { Migration } from '../migrations.js'

export interface VelocityTables {
  velocity_buckets: {
    window_id: string
    group_key: string
    bucket_start: number
    sum_usd_cents: number
    count: number
  }
  velocity_reservations: {
    route: string
    request_id: string
    window_id: string
    group_key: string
    bucket_start: number
    amount_usd_cents: number
    released_at: number | null
  }
}

export const VELOCITY_MIGRATIONS: readonly Migration[] = [
  {
    owner: 'velocity',
    name: '0001_ledger',
    up: async (db) => {
      await db.schema
        .createTable('velocity_buckets')
        .addColumn('window_id', 'text', (column) => column.notNull())
        .addColumn('group_key', 'text', (column) => column.notNull())
        .addColumn('bucket_start', 'bigint', (column) => column.notNull())
        .addColumn('sum_usd_cents', 'bigint', (column) => column.notNull())
        .addColumn('count', 'bigint', (column) => column.notNull())
        .addPrimaryKeyConstraint('velocity_buckets_pk', ['window_id', 'group_key', 'bucket_start'])
        .execute()
      await db.schema
        .createTable('velocity_reservations')
        .addColumn('route', 'text', (column) => column.notNull())
        .addColumn('request_id', 'text', (column) => column.notNull())
        .addColumn('window_id', 'text', (column) => column.notNull())
        .addColumn('group_key', 'text', (column) => column.notNull())
        .addColumn('bucket_start', 'bigint', (column) => column.notNull())
        .addColumn('amount_usd_cents', 'bigint', (column) => column.notNull())
        .addColumn('released_at', 'bigint')
        .addPrimaryKeyConstraint('velocity_reservations_pk', [
          'route',
          'request_id',
          'window_id',
          'group_key',
        ])
        .execute()
    },
  },
]
