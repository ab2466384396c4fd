import { randomToken } from '../../service/index.js'
import {
  consoleStore,
  findApiUser,
  findConsoleUser,
  putConsoleUser,
  type ConsoleUserRecord,
  type Executor,
  type StorageDatabase,
} from '../../storage/index.js'
import type { Clock } from '../../core/index.js'
import { hubAudit } from '../hub.js'
import { isRole } from '../rest/api-users.js'
import { mayVoteOnPolicy, ROLES, type Role } from '../rest/roles.js'

/** The workspace console's pages, below its origin. */
export const WORKSPACE_CONSOLE_PREFIX = '/console'

/** A signed-in console user as the server checks them: their name and their role now (not at sign-in). */
export interface ConsoleUser {
  readonly name: string
  readonly role: Role
  /** The API user whose policy-draft votes they cast with a passkey, if any. */
  readonly apiUserId: string | null
}

/** The console user `name` in a known role, or undefined (unknown names and roles are refused: fail closed). */
export async function consoleUser(db: StorageDatabase, name: string): Promise<ConsoleUser | undefined> {
  const record: ConsoleUserRecord | undefined = await db.read((reader) => findConsoleUser(reader, name))
  return record !== undefined && isRole(record.role)
    ? { name: record.name, role: record.role, apiUserId: record.apiUserId }
    : undefined
}

export class ConsoleUserInvalid extends Error {
  override readonly name = 'ConsoleUserInvalid'
}

/**
 * A person casts policy votes as one API user, an enabled OWNER or ADMIN in the same role as theirs: so a
 * person's vote counts once (governance counts votes by API user), and never above the API user's role.
 */
async function checkVotingApiUser(db: Executor, apiUserId: string, role: Role): Promise<void> {
  const user = await findApiUser(db, apiUserId)
  if (user === undefined || !user.enabled || !mayVoteOnPolicy(user.role))
    throw new ConsoleUserInvalid(
      `--api-user must name an enabled OWNER or ADMIN API user: ${apiUserId} is not`,
    )
  if (user.role !== role)
    throw new ConsoleUserInvalid(
      `the API user ${apiUserId} is a ${user.role}: give the console user that role`,
    )
}

export interface ConsoleLinkRequest {
  readonly name: string
  readonly role: string
  readonly origin: string
  readonly ttlMs: number
  /** An OWNER or ADMIN API user whose policy-draft votes the person may cast with their passkey. */
  readonly apiUserId?: string
}

/**
 * `countersign hub console-link`: adds the console user `name` in `role` (or gives an existing one that
 * role), audited, and issues a single-use enrolment link (its token in the fragment, which browsers never
 * send to servers; the store keeps its hash only).
 */
export async function issueConsoleLink(
  db: StorageDatabase,
  clock: Clock,
  request: ConsoleLinkRequest,
): Promise<string> {
  const name = request.name.trim()
  if (!/^[\w.@-]{1,100}$/.test(name))
    throw new ConsoleUserInvalid('the name holds 1 to 100 letters, digits, ".", "@", "_" or "-"')
  if (!isRole(request.role)) throw new ConsoleUserInvalid(`the role is one of ${ROLES.join(', ')}`)
  const role = request.role
  const apiUserId = request.apiUserId ?? null
  const audit = hubAudit(clock)
  await db.write(async (session) => {
    if (apiUserId !== null) await checkVotingApiUser(session.db, apiUserId, role)
    await putConsoleUser(session.db, { name, role, apiUserId }, clock.now())
    await audit(session, 'console-user-set', { principal: name, role, apiUserId })
  })
  const token = randomToken()
  await consoleStore(db, clock).issueEnrolment(name, token, request.ttlMs)
  return `${request.origin.replace(/\/$/, '')}${WORKSPACE_CONSOLE_PREFIX}/enrol#token=${token}`
}
