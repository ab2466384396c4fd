import { randomToken } from '../../service/index.js'
import {
  consoleStore,
  findConsoleUser,
  putConsoleUser,
  type ConsoleUserRecord,
  type StorageDatabase,
} from '../../storage/index.js'
import type { Clock } from '../../core/index.js'
import { hubAudit } from '../hub.js'
import { isRole } from '../rest/api-users.js'
import { ROLES, type Role } from '../rest/roles.js'

/** The workspace console's pages, below its origin. */
export const WORKSPACE_CONSOLE_PREFIX = '/console'

/** A signed-in console user as the server checks them: their name and their role now (not at sign-in). */
export interface ConsoleUser {
  readonly name: string
  readonly role: Role
}

/** The console user `name` in a known role, or undefined (unknown names and roles are refused: fail closed). */
export async function consoleUser(db: StorageDatabase, name: string): Promise<ConsoleUser | undefined> {
  const record: ConsoleUserRecord | undefined = await db.read((reader) => findConsoleUser(reader, name))
  return record !== undefined && isRole(record.role) ? { name: record.name, role: record.role } : undefined
}

export class ConsoleUserInvalid extends Error {
  override readonly name = 'ConsoleUserInvalid'
}

/**
 * `countersign hub console-link`: adds the console user `name` in `role` (or gives an existing one that
 * role), audited, and issues a single-use enrolment link (its token in the fragment, which browsers never
 * send to servers; the store keeps its hash only).
 */
export async function issueConsoleLink(
  db: StorageDatabase,
  clock: Clock,
  request: { readonly name: string; readonly role: string; readonly origin: string; readonly ttlMs: number },
): Promise<string> {
  const name = request.name.trim()
  if (!/^[\w.@-]{1,100}$/.test(name))
    throw new ConsoleUserInvalid('the name holds 1 to 100 letters, digits, ".", "@", "_" or "-"')
  if (!isRole(request.role)) throw new ConsoleUserInvalid(`the role is one of ${ROLES.join(', ')}`)
  const role = request.role
  const audit = hubAudit(clock)
  await db.write(async (session) => {
    await putConsoleUser(session.db, name, role, clock.now())
    await audit(session, 'console-user-set', { principal: name, role })
  })
  const token = randomToken()
  await consoleStore(db, clock).issueEnrolment(name, token, request.ttlMs)
  return `${request.origin.replace(/\/$/, '')}${WORKSPACE_CONSOLE_PREFIX}/enrol#token=${token}`
}
