import { tables, type Executor } from '../database/types.js'
import type { HubAuthTables } from './schema.js'

/** A person who may sign in to the workspace console, in a workspace role (checked on every request). */
export interface ConsoleUserRecord {
  readonly name: string
  readonly role: string
  /** The API user whose policy-draft votes this person casts in the console; null: they cast none. */
  readonly apiUserId: string | null
  readonly createdAt: number
  readonly updatedAt: number
}

type ConsoleUserRow = HubAuthTables['hub_console_users']

const toRecord = (row: ConsoleUserRow): ConsoleUserRecord => ({
  name: row.name,
  role: row.role,
  apiUserId: row.api_user_id,
  createdAt: Number(row.created_at),
  updatedAt: Number(row.updated_at),
})

/** Adds the console user, or gives an existing one `role` (their passkeys and sessions stay theirs). */
export async function putConsoleUser(
  db: Executor,
  user: { readonly name: string; readonly role: string; readonly apiUserId: string | null },
  now: number,
): Promise<void> {
  const { name, role } = user
  const typed = tables<HubAuthTables>(db)
  const updated = await typed
    .updateTable('hub_console_users')
    .set({ role, api_user_id: user.apiUserId, updated_at: now })
    .where('name', '=', name)
    .executeTakeFirst()
  if (Number(updated.numUpdatedRows) > 0) return
  await typed
    .insertInto('hub_console_users')
    .values({ name, role, api_user_id: user.apiUserId, created_at: now, updated_at: now })
    .execute()
}

export async function findConsoleUser(db: Executor, name: string): Promise<ConsoleUserRecord | undefined> {
  const row = await tables<HubAuthTables>(db)
    .selectFrom('hub_console_users')
    .selectAll()
    .where('name', '=', name)
    .executeTakeFirst()
  return row && toRecord(row)
}

export async function listConsoleUsers(db: Executor): Promise<ConsoleUserRecord[]> {
  const rows = await tables<HubAuthTables>(db)
    .selectFrom('hub_console_users')
    .selectAll()
    .orderBy('name')
    .execute()
  return rows.map(toRecord)
}
