import { tables, type Executor } from '../database/index.js'
import type { HubLinkTables } from './schema.js'

/** A message to put in a party's mailbox: its text is already signed by the hub. */
export interface OutgoingMessage {
  readonly to: string
  readonly message: string
}

export interface MailboxEntry {
  readonly cursor: number
  readonly message: string
}

/**
 * The party's next cursor. The upsert locks the party's head row until COMMIT, so two transactions posting
 * to one party (from two replicas) commit in cursor order: a reader that has seen cursor n never later
 * finds a new row below n.
 */
async function nextCursor(db: Executor, party: string): Promise<number> {
  const head = await tables<HubLinkTables>(db)
    .insertInto('hub_link_mailbox_heads')
    .values({ party, last_cursor: 1 })
    .onConflict((conflict) =>
      conflict
        .column('party')
        .doUpdateSet((update) => ({ last_cursor: update('hub_link_mailbox_heads.last_cursor', '+', 1) })),
    )
    .returning('last_cursor')
    .executeTakeFirstOrThrow()
  return Number(head.last_cursor)
}

/** Appends each message to its addressee's mailbox, in order; returns their cursors. */
export async function postMessages(
  db: Executor,
  messages: readonly OutgoingMessage[],
  now: number,
): Promise<number[]> {
  const cursors: number[] = []
  for (const { to, message } of messages) {
    const cursor = await nextCursor(db, to)
    await tables<HubLinkTables>(db)
      .insertInto('hub_link_mailbox')
      .values({ party: to, cursor, message, created_at: now })
      .execute()
    cursors.push(cursor)
  }
  return cursors
}

export async function readMailbox(
  db: Executor,
  party: string,
  after: number,
  limit: number,
): Promise<MailboxEntry[]> {
  const rows = await tables<HubLinkTables>(db)
    .selectFrom('hub_link_mailbox')
    .select(['cursor', 'message'])
    .where('party', '=', party)
    .where('cursor', '>', after)
    .orderBy('cursor')
    .limit(limit)
    .execute()
  return rows.map((row) => ({ cursor: Number(row.cursor), message: row.message }))
}

/** Deletes the party's messages up to `cursor`; returns how many. */
export async function acknowledge(db: Executor, party: string, cursor: number): Promise<number> {
  const deleted = await tables<HubLinkTables>(db)
    .deleteFrom('hub_link_mailbox')
    .where('party', '=', party)
    .where('cursor', '<=', cursor)
    .executeTakeFirst()
  return Number(deleted.numDeletedRows)
}
