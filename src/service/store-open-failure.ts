import { dirname } from 'node:path'
import { redactStoreUrl } from './config-fields.js'
import { describeError } from './describe-error.js'
import { StartupFailed } from './errors.js'

/** The innermost cause of an error wrapped with `{ cause }` (a store wraps its driver's error). */
function rootCause(error: unknown): unknown {
  let current = error
  for (let depth = 0; depth < 8; depth++) {
    const cause = (current as { cause?: unknown } | null)?.cause
    if (cause === undefined || cause === null) return current
    current = cause
  }
  return current
}

function field(error: unknown, name: 'code' | 'message'): string {
  const value = (error as Record<string, unknown> | null)?.[name]
  return typeof value === 'string' ? value : ''
}

/** The cause in words and its fix, for the failures operators meet: folders, permissions, servers, ABIs. */
function explain(url: string, error: unknown): string {
  const code = field(error, 'code')
  const message = field(error, 'message')
  const sqlitePath = url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : undefined
  if (code === 'ERR_DLOPEN_FAILED' || /NODE_MODULE_VERSION|invalid ELF header/.test(message))
    return `its native module was built for another Node.js (this is ${process.version}, ABI ${process.versions.modules}); run \`npm rebuild better-sqlite3\` with this node, or reinstall`
  if (sqlitePath !== undefined) {
    if (/directory does not exist/i.test(message) || code === 'ENOENT')
      return `the folder ${dirname(sqlitePath)} does not exist; create it or fix the store path`
    if (['SQLITE_CANTOPEN', 'SQLITE_READONLY', 'SQLITE_PERM', 'EACCES', 'EROFS'].includes(code))
      return `${sqlitePath} cannot be created or written (${code}); give the service's user (uid ${process.getuid?.() ?? '?'}) write access to the file and its folder`
  }
  if (['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH'].includes(code))
    return `PostgreSQL does not answer (${code}); start it, or fix the host and port in the store URL`
  if (code === 'ENOTFOUND') return `the PostgreSQL host name is unknown (ENOTFOUND); fix the store URL`
  if (code === '28P01' || code === '28000')
    return `PostgreSQL refused the credentials (${code}); fix the user and password in the store URL`
  if (code === '3D000') return `the database does not exist (${code}); create it or fix the store URL`
  return `${describeError(error)}; check the store URL and that the database is reachable`
}

/** One line naming why the store `url` could not be opened, and the fix; the password never appears. */
export function storeOpenFailed(url: string, error: unknown): StartupFailed {
  return new StartupFailed(
    'CS_SERVICE_STORE_OPEN',
    `cannot open the store ${redactStoreUrl(url)}: ${explain(url, rootCause(error))}`,
    { cause: error },
  )
}
