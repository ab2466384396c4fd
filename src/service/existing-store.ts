import { statSync } from 'node:fs'
import { StartupFailed } from './errors.js'

/**
 * Refuses a SQLite store whose file is not there, for the commands that read what a service wrote
 * (`audit verify`, `approvals list`...): opening it would create an empty database, and a typo in the path
 * would then read as "audit chain intact: 0 entries" or "nothing pending". PostgreSQL URLs and
 * `sqlite::memory:` pass: a missing PostgreSQL database is refused by the server itself.
 */
export function requireExistingStore(url: string): void {
  if (!url.startsWith('sqlite:') || url === 'sqlite::memory:') return
  const path = url.slice('sqlite:'.length)
  const found = statSync(path, { throwIfNoEntry: false })
  if (found === undefined)
    throw new StartupFailed(
      'CS_SERVICE_STORE_MISSING',
      `the store ${path} does not exist (this command reads an existing database and never creates one); give the handler's database with --store sqlite:PATH, or its configuration with --config FILE`,
    )
  if (!found.isFile())
    throw new StartupFailed(
      'CS_SERVICE_STORE_MISSING',
      `the store ${path} is a folder, not a SQLite database; give the database file inside it (e.g. --store sqlite:${path}/countersign.db)`,
    )
}
