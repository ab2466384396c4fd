import type { Migration } from '../migrations.js'

export interface HubAuthTables {
  /** The people who sign in to the workspace console (with a passkey), each with a workspace role. */
  hub_console_users: {
    name: string
    role: string
    /** The OWNER or ADMIN API user whose policy-draft votes this person casts with a passkey; null: none. */
    api_user_id: string | null
    created_at: number
    updated_at: number
  }
  hub_api_users: {
    /** The API key (a UUID): `X-API-Key` and the JWT `sub`. */
    id: string
    name: string
    role: string
    /** The RSA public key (SPKI PEM) taken from the CSR the API user was created with. */
    public_key_pem: string
    /** JSON array of IPv4 addresses; empty admits any source address. */
    allowed_ips_json: string
    /** 1 or 0: portable across SQLite and PostgreSQL. */
    enabled: number
    created_at: number
  }
  hub_nonces: {
    api_key: string
    nonce: string
    /** Milliseconds since the epoch after which no token carrying this nonce can be accepted. */
    expires_at: number
  }
  hub_idempotency_keys: {
    api_key: string
    idempotency_key: string
    /** SHA-256 (hex) of the first request: method, target and raw body. */
    request_hash: string
    /** Null while the first request is being answered. */
    status: number | null
    /** The first answer's body, byte for byte as sent (JSON or empty); null while pending. */
    response_body: string | null
    created_at: number
  }
}

export const HUB_AUTH_MIGRATIONS: readonly Migration[] = [
  {
    owner: 'hub-auth',
    name: '0001_api_users_nonces_idempotency',
    up: async (db) => {
      await db.schema
        .createTable('hub_api_users')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('name', 'text', (column) => column.notNull())
        .addColumn('role', 'text', (column) => column.notNull())
        .addColumn('public_key_pem', 'text', (column) => column.notNull())
        .addColumn('allowed_ips_json', 'text', (column) => column.notNull())
        .addColumn('enabled', 'integer', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .execute()
      await db.schema
        .createTable('hub_nonces')
        .addColumn('api_key', 'text', (column) => column.notNull())
        .addColumn('nonce', 'text', (column) => column.notNull())
        .addColumn('expires_at', 'bigint', (column) => column.notNull())
        .addPrimaryKeyConstraint('hub_nonces_pk', ['api_key', 'nonce'])
        .execute()
      await db.schema.createIndex('hub_nonces_by_expiry').on('hub_nonces').column('expires_at').execute()
      await db.schema
        .createTable('hub_idempotency_keys')
        .addColumn('api_key', 'text', (column) => column.notNull())
        .addColumn('idempotency_key', 'text', (column) => column.notNull())
        .addColumn('request_hash', 'text', (column) => column.notNull())
        .addColumn('status', 'integer')
        .addColumn('response_body', 'text')
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addPrimaryKeyConstraint('hub_idempotency_keys_pk', ['api_key', 'idempotency_key'])
        .execute()
      await db.schema
        .createIndex('hub_idempotency_by_time')
        .on('hub_idempotency_keys')
        .column('created_at')
        .execute()
    },
  },
  {
    owner: 'hub-auth',
    name: '0002_console_users',
    up: async (db) => {
      await db.schema
        .createTable('hub_console_users')
        .addColumn('name', 'text', (column) => column.primaryKey())
        .addColumn('role', 'text', (column) => column.notNull())
        .addColumn('api_user_id', 'text')
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('updated_at', 'bigint', (column) => column.notNull())
        .execute()
    },
  },
]
