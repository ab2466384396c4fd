import type { Migration } from '../migrations.js'

export interface ApprovalTables {
  approval_votes: {
    route: string
    request_id: string
    approver: string
    vote: 'approve' | 'reject'
    reason: string | null
    voted_at: number
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
]
