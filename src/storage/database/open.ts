import { StoreUnavailable } from '../errors.js'
import { openPostgres } from './postgres.js'
import { openSqlite } from './sqlite.js'
import type { StorageDatabase } from './types.js'

/** `sqlite:PATH` (`sqlite::memory:` for tests) or `postgres://...`. */
export function openDatabase(url: string): StorageDatabase {
  if (url.startsWith('sqlite:')) return openSqlite(url.slice('sqlite:'.length))
  if (/^postgres(ql)?:\/\//.test(url)) return openPostgres(url)
  throw new StoreUnavailable('unsupported store URL: expected sqlite:PATH or postgres://...')
}
