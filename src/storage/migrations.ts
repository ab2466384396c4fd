import { sql } from 'kysely'
import { StoreSchemaUnknown, StoreUnavailable } from './errors.js'
import { LockRank, tables, type Dialect, type Executor, type StorageDatabase } from './database/types.js'

/**
 * A schema change owned by one module (a capability of this layer, or a service's own store). Migrations
 * are recorded by (owner, name) in one table, so two owners can never collide, and applied in the order
 * each owner lists them; names are `NNNN_what` and must increase within an owner. Append only: a released
 * migration is never edited.
 */
export interface Migration {
  readonly owner: string
  readonly name: string
  up(db: Executor): Promise<void>
}

interface MigrationTables {
  storage_migrations: { owner: string; name: string; applied_at: number }
}

const NAME = /^\d{4}_[a-z0-9_]+$/

/** Refuses a list in which a name is malformed, repeated, or out of order within its owner. */
export function checkMigrations(migrations: readonly Migration[]): void {
  const last = new Map<string, string>()
  for (const { owner, name } of migrations) {
    if (!NAME.test(name))
      throw new StoreUnavailable(`migration ${owner}/${name} is misnamed: use NNNN_what, e.g. 0002_add_route`)
    const previous = last.get(owner)
    if (previous !== undefined && previous >= name)
      throw new StoreUnavailable(`migration ${owner}/${name} must come after ${owner}/${previous}: rename it`)
    last.set(owner, name)
  }
}

/** The tables of the store's own namespace: the SQLite file, or the PostgreSQL schema first on the search path. */
async function existingTables(db: Executor, dialect: Dialect): Promise<string[]> {
  type Named = { name: string }
  const query =
    dialect === 'sqlite'
      ? sql<Named>`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
      : sql<Named>`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()`
  return (await query.execute(db)).rows.map((row) => row.name).sort()
}

/**
 * A store whose tables were not made by these migrations (an earlier release's, recorded in its own
 * `schema_migrations` or `migrations` table, or another application's) is refused: migrating it would
 * create new, empty tables beside the old ones, and a request the old tables recorded would be decided a
 * second time when the co-signer retries it.
 */
async function refuseUnknownSchema(db: Executor, dialect: Dialect): Promise<void> {
  const found = await existingTables(db, dialect)
  if (found.length === 0 || found.includes('storage_migrations')) return
  throw new StoreSchemaUnknown(
    `the store holds tables no migration of this release recorded (${found.join(', ')}; no storage_migrations table): ` +
      'it was made by an earlier release or another application, and starting over beside it would decide ' +
      'old requests again; point the store at a new, empty database, schema or file, and keep the old one ' +
      'for its audit trail [CS_STORE_SCHEMA_UNKNOWN]',
  )
}

/** Applies the pending migrations in one transaction, under a lock, so two replicas starting together apply each once. */
export async function migrate(
  database: StorageDatabase,
  migrations: readonly Migration[],
  now: number,
): Promise<void> {
  checkMigrations(migrations)
  await database.write(async (session) => {
    await session.lock([{ rank: LockRank.migrations, key: 'schema' }])
    await refuseUnknownSchema(session.db, database.dialect)
    await sql`CREATE TABLE IF NOT EXISTS storage_migrations (
      owner TEXT NOT NULL, name TEXT NOT NULL, applied_at BIGINT NOT NULL, PRIMARY KEY (owner, name))`.execute(
      session.db,
    )
    const db = tables<MigrationTables>(session.db)
    const applied = new Set(
      (await db.selectFrom('storage_migrations').select(['owner', 'name']).execute()).map(
        (row) => `${row.owner}/${row.name}`,
      ),
    )
    for (const migration of migrations) {
      if (applied.has(`${migration.owner}/${migration.name}`)) continue
      await migration.up(session.db)
      await db
        .insertInto('storage_migrations')
        .values({ owner: migration.owner, name: migration.name, applied_at: now })
        .execute()
    }
  })
}
