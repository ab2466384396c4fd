import type { Migration } from '../migrations.js'

/** The hub's transaction-policy governance: every published version, the drafts and their votes. */
export interface HubPolicyTables {
  hub_policy_versions: {
    version: number
    text: string
    digest: string
    published_at: number
    published_by: string
    draft_id: string
  }
  hub_policy_drafts: {
    id: string
    text: string
    digest: string
    proposed_by: string
    proposed_at: number
    state: string
  }
  hub_policy_votes: {
    draft_id: string
    user_id: string
    role: string
    vote: string
    at: number
  }
}

export const HUB_POLICY_MIGRATIONS: readonly Migration[] = [
  {
    owner: 'hub-policy',
    name: '0001_governance',
    up: async (db) => {
      await db.schema
        .createTable('hub_policy_versions')
        .addColumn('version', 'bigint', (column) => column.primaryKey())
        .addColumn('text', 'text', (column) => column.notNull())
        .addColumn('digest', 'text', (column) => column.notNull())
        .addColumn('published_at', 'bigint', (column) => column.notNull())
        .addColumn('published_by', 'text', (column) => column.notNull())
        .addColumn('draft_id', 'text', (column) => column.notNull().unique())
        .execute()
      await db.schema
        .createTable('hub_policy_drafts')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('text', 'text', (column) => column.notNull())
        .addColumn('digest', 'text', (column) => column.notNull())
        .addColumn('proposed_by', 'text', (column) => column.notNull())
        .addColumn('proposed_at', 'bigint', (column) => column.notNull())
        .addColumn('state', 'text', (column) => column.notNull())
        .execute()
      await db.schema
        .createTable('hub_policy_votes')
        .addColumn('draft_id', 'text', (column) => column.notNull())
        .addColumn('user_id', 'text', (column) => column.notNull())
        .addColumn('role', 'text', (column) => column.notNull())
        .addColumn('vote', 'text', (column) => column.notNull())
        .addColumn('at', 'bigint', (column) => column.notNull())
        // One vote per user and draft: a second approval by the same user can never count twice.
        .addPrimaryKeyConstraint('hub_policy_votes_pk', ['draft_id', 'user_id'])
        .execute()
    },
  },
]
