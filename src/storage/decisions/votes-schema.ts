import type { Migration } from '../migrations.js'

export interface ApprovalTables {
  approval_votes: {
    route: string
    request_id: string
    approver: string
    vote: 'approve' | 'reject'
    reason: string | null
    voted_at: number
    /** When the approver signed the vote (null for a vote recorded before votes were signed: never counted). */
    signed_at: number | null
    /** The approver's signature over the vote statement, base64url. */
    signature: string | null
    /** The passkey a console vote was made with (its `signature` is then the WebAuthn assertion); null for a CLI vote. */
    credential_id: string | null
  }
  approvers: {
    id: string
    /** SPKI PEM, Ed25519 or ECDSA P-256. */
    public_key: string
    fingerprint: string
    added_at: number
  }
}

export const APPROVAL_MIGRATIONS: readonly Migration[] = [
  {
    owner: 'approvals',
    name: '0001_votes',
    up: async (db) => {
      await db.schema
        .createTable('approval_votes')
        .addColumn('route', 'text', (column) => column.notNull())
        .addColumn('request_id', 'text', (column) => column.notNull())
        .addColumn('approver', 'text', (column) => column.notNull())
        .addColumn('vote', 'text', (column) => column.notNull())
        .addColumn('reason', 'text')
        .addColumn('voted_at', 'bigint', (column) => column.notNull())
        .addPrimaryKeyConstraint('approval_votes_pk', ['route', 'request_id', 'approver'])
        .execute()
    },
  },
  {
    owner: 'approvals',
    name: '0002_signed_votes',
    up: async (db) => {
      await db.schema.alterTable('approval_votes').addColumn('signed_at', 'bigint').execute()
      await db.schema.alterTable('approval_votes').addColumn('signature', 'text').execute()
      await db.schema
        .createTable('approvers')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('public_key', 'text', (column) => column.notNull())
        // One key, one approver: otherwise one person holding the key could cast two approvers' votes.
        .addColumn('fingerprint', 'text', (column) => column.notNull().unique())
        .addColumn('added_at', 'bigint', (column) => column.notNull())
        .execute()
    },
  },
  {
    owner: 'approvals',
    name: '0003_passkey_votes',
    up: async (db) => {
      await db.schema.alterTable('approval_votes').addColumn('credential_id', 'text').execute()
    },
  },
]
