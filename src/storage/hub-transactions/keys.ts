import { tables, type Executor, type WriteSession } from '../database/index.js'
import { StoreConflict } from '../errors.js'
import type { HubTransactionTables } from './schema.js'

/**
 * The workspace's threshold keys as the hub knows them: a root public key and chain code per algorithm
 * (addresses derive from them), and which customer parties hold a 3-of-3 set of each.
 */
export interface WorkspaceKey {
  readonly algorithm: string
  /** Hex. */
  readonly publicKey: string
  /** Hex. */
  readonly chainCode: string
}

export interface KeySet {
  readonly party: string
  readonly algorithm: string
  readonly publicKey: string
}

/** Records the root key of `algorithm` once; the same key again is a no-op, another key a conflict. */
export async function putWorkspaceKey(session: WriteSession, key: WorkspaceKey, at: number): Promise<void> {
  const db = tables<HubTransactionTables>(session.db)
  await db
    .insertInto('hub_workspace_keys')
    .values({
      algorithm: key.algorithm,
      public_key: key.publicKey,
      chain_code: key.chainCode,
      created_at: at,
    })
    .onConflict((conflict) => conflict.doNothing())
    .execute()
  const stored = await db
    .selectFrom('hub_workspace_keys')
    .selectAll()
    .where('algorithm', '=', key.algorithm)
    .executeTakeFirstOrThrow()
  if (stored.public_key !== key.publicKey || stored.chain_code !== key.chainCode)
    throw new StoreConflict(`the workspace already has another ${key.algorithm} key`)
}

export async function readWorkspaceKeys(db: Executor): Promise<WorkspaceKey[]> {
  const rows = await tables<HubTransactionTables>(db).selectFrom('hub_workspace_keys').selectAll().execute()
  return rows.map((row) => ({
    algorithm: row.algorithm,
    publicKey: row.public_key,
    chainCode: row.chain_code,
  }))
}

export async function putKeySet(session: WriteSession, set: KeySet, at: number): Promise<void> {
  await tables<HubTransactionTables>(session.db)
    .insertInto('hub_key_sets')
    .values({ party: set.party, algorithm: set.algorithm, public_key: set.publicKey, created_at: at })
    .onConflict((conflict) =>
      conflict.columns(['party', 'algorithm']).doUpdateSet({ public_key: set.publicKey, created_at: at }),
    )
    .execute()
}

export async function deleteKeySets(session: WriteSession, party: string): Promise<void> {
  await tables<HubTransactionTables>(session.db)
    .deleteFrom('hub_key_sets')
    .where('party', '=', party)
    .execute()
}

export async function readKeySets(db: Executor): Promise<KeySet[]> {
  const rows = await tables<HubTransactionTables>(db).selectFrom('hub_key_sets').selectAll().execute()
  return rows.map((row) => ({ party: row.party, algorithm: row.algorithm, publicKey: row.public_key }))
}
