import type { Migration } from '../migrations.js'

export interface HubWebhookTables {
  hub_webhook_endpoints: {
    id: string
    url: string
    /** A JSON array of v2 event names (`transaction.created`...). */
    events_json: string
    payload_version: string
    /** 1 or 0: the same column type on both drivers. */
    enabled: number
    description: string | null
    created_at: number
    updated_at: number
  }
  hub_webhook_outbox: {
    id: string
    /** The process-local enqueue order within one millisecond (see `nextOrder`). */
    enqueue_order: number
    notification_id: string
    endpoint_id: string
    url: string
    event_type: string
    resource_id: string | null
    /** The exact bytes sent and signed, as text. */
    body: string
    attempts: number
    next_attempt_at: number
    state: string
    /** Who holds the row while it is being delivered; a worker's outcome counts only with its token. */
    claim_token: string | null
    last_error: string | null
    created_at: number
    updated_at: number
  }
}

export const HUB_WEBHOOK_MIGRATIONS: readonly Migration[] = [
  {
    owner: 'hub-webhooks',
    name: '0001_outbox',
    up: async (db) => {
      await db.schema
        .createTable('hub_webhook_endpoints')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('url', 'text', (column) => column.notNull())
        .addColumn('events_json', 'text', (column) => column.notNull())
        .addColumn('payload_version', 'text', (column) => column.notNull())
        .addColumn('enabled', 'integer', (column) => column.notNull())
        .addColumn('description', 'text')
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('updated_at', 'bigint', (column) => column.notNull())
        .execute()
      await db.schema
        .createTable('hub_webhook_outbox')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('enqueue_order', 'bigint', (column) => column.notNull())
        .addColumn('notification_id', 'text', (column) => column.notNull())
        .addColumn('endpoint_id', 'text', (column) => column.notNull())
        .addColumn('url', 'text', (column) => column.notNull())
        .addColumn('event_type', 'text', (column) => column.notNull())
        .addColumn('resource_id', 'text')
        .addColumn('body', 'text', (column) => column.notNull())
        .addColumn('attempts', 'integer', (column) => column.notNull())
        .addColumn('next_attempt_at', 'bigint', (column) => column.notNull())
        .addColumn('state', 'text', (column) => column.notNull())
        .addColumn('claim_token', 'text')
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('updated_at', 'bigint', (column) => column.notNull())
        .execute()
      // What the delivery workers scan: the due pending rows, oldest first.
      await db.schema
        .createIndex('hub_webhook_outbox_due')
        .on('hub_webhook_outbox')
        .columns(['state', 'next_attempt_at', 'created_at', 'enqueue_order'])
        .execute()
    },
  },
]
