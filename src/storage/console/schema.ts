import type { Migration } from '../migrations.js'

/**
 * The web consoles' durable state: passkeys, single-use challenges and enrolment tokens, sessions. Tokens
 * and session ids are stored as SHA-256 hashes only, so a copy of the database signs nobody in.
 */
export interface ConsoleTables {
  console_credentials: {
    /** The WebAuthn credential id, base64url. */
    credential_id: string
    /** Who the passkey signs in and votes as (an approver on the handler). */
    principal: string
    /** The credential public key as the authenticator gave it (COSE), base64url. */
    public_key_cose: string
    /** The same key as SPKI PEM, for verifying stored assertions again without a WebAuthn library. */
    public_key_pem: string
    sign_count: number
    transports: string
    created_at: number
  }
  console_challenges: {
    id: string
    purpose: string
    principal: string | null
    challenge: string
    /** What the challenge is about (a vote's facts), JSON. */
    context_json: string
    expires_at: number
  }
  console_enrolments: { token_hash: string; principal: string; created_at: number; expires_at: number }
  console_sessions: { token_hash: string; principal: string; created_at: number; expires_at: number }
}

export const CONSOLE_MIGRATIONS: readonly Migration[] = [
  {
    owner: 'console',
    name: '0001_passkeys_sessions',
    up: async (db) => {
      await db.schema
        .createTable('console_credentials')
        .addColumn('credential_id', 'text', (column) => column.primaryKey())
        .addColumn('principal', 'text', (column) => column.notNull())
        .addColumn('public_key_cose', 'text', (column) => column.notNull())
        .addColumn('public_key_pem', 'text', (column) => column.notNull())
        .addColumn('sign_count', 'bigint', (column) => column.notNull())
        .addColumn('transports', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .execute()
      await db.schema
        .createIndex('console_credentials_principal')
        .on('console_credentials')
        .column('principal')
        .execute()
      await db.schema
        .createTable('console_challenges')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('purpose', 'text', (column) => column.notNull())
        .addColumn('principal', 'text')
        .addColumn('challenge', 'text', (column) => column.notNull())
        .addColumn('context_json', 'text', (column) => column.notNull())
        .addColumn('expires_at', 'bigint', (column) => column.notNull())
        .execute()
      for (const table of ['console_enrolments', 'console_sessions'])
        await db.schema
          .createTable(table)
          .addColumn('token_hash', 'text', (column) => column.primaryKey())
          .addColumn('principal', 'text', (column) => column.notNull())
          .addColumn('created_at', 'bigint', (column) => column.notNull())
          .addColumn('expires_at', 'bigint', (column) => column.notNull())
          .execute()
    },
  },
]
