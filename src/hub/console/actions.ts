import type { Clock } from '../../core/index.js'
import type { ConsoleKit, ServiceApp, ServiceReply, ServiceRequest } from '../../service/index.js'
import { NotFound, type StorageDatabase } from '../../storage/index.js'
import { hubAudit } from '../hub.js'
import type { LinkHub } from '../link/index.js'
import { HubApiError } from '../rest/api-error.js'
import { mayCreateApiUser, registerApiUser, setAllowedIps } from '../rest/api-users.js'
import { issuePairingToken } from '../rest/pairing-routes.js'
import { ADMINS, type Role } from '../rest/roles.js'
import { consoleUser, type ConsoleUser } from './console-users.js'

/** A form with a CSR in it: a few KiB (the admin listener's own limit is 1 KiB). */
const FORM_BODY_LIMIT = 32 * 1024

export interface ConsoleActionsOptions {
  readonly db: StorageDatabase
  readonly link: LinkHub
  readonly clock: Clock
  /** Renders the API users page with a notice or an error, in `status`. */
  readonly apiUsersPage: (
    request: ServiceRequest,
    reply: ServiceReply,
    message: { readonly notice?: string; readonly error?: string },
    status: number,
  ) => Promise<ServiceReply>
}

type Outcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly status: number; readonly error: string }

/** The status of a refusal the user can act on (bad input, unknown API user); undefined for a fault. */
function refusalStatus(error: unknown): number | undefined {
  if (error instanceof HubApiError) return error.statusCode
  if (error instanceof NotFound) return 404
  return undefined
}

const field = (body: unknown, name: string): string => {
  const value = (body as Record<string, unknown> | null | undefined)?.[name]
  return typeof value === 'string' ? value : ''
}

/**
 * Runs one console action for the signed-in user: refused (403) unless `allowed` admits their role as the
 * store has it now, and audited on the hub's chain whatever its outcome (who, in which role, what, and
 * the answer; never a token or key). The REST API's own functions do the work, so their checks apply.
 */
export function performer(kit: ConsoleKit, options: { readonly db: StorageDatabase; readonly clock: Clock }) {
  const audit = hubAudit(options.clock)
  const record = (
    principal: string,
    user: ConsoleUser | undefined,
    action: string,
    facts: Record<string, unknown>,
  ) =>
    options.db.write((session) =>
      audit(session, 'console-action', { principal, role: user?.role ?? null, action, ...facts }),
    )
  return async <T>(
    request: ServiceRequest,
    action: string,
    details: Record<string, unknown>,
    allowed: (role: Role) => boolean,
    run: () => Promise<T>,
    describe: (value: T) => Record<string, unknown> = () => ({}),
  ): Promise<Outcome<T>> => {
    const principal = kit.principalOf(request)
    const user = await consoleUser(options.db, principal)
    if (user === undefined || !allowed(user.role)) {
      const error = `a ${user?.role ?? 'removed user'} may not ${action.replaceAll('-', ' ')}`
      await record(principal, user, action, { ...details, outcome: 'refused', reason: error })
      return { ok: false, status: 403, error }
    }
    try {
      const value = await run()
      await record(principal, user, action, { ...details, ...describe(value), outcome: 'done' })
      return { ok: true, value }
    } catch (error) {
      const status = refusalStatus(error)
      if (status === undefined) throw error
      const reason = (error as Error).message
      await record(principal, user, action, { ...details, outcome: 'refused', reason })
      return { ok: false, status, error: reason }
    }
  }
}

const isAdmin = (role: Role) => ADMINS.includes(role)

/**
 * The console's state-changing routes, each behind a session, the page's CSRF token and the role check of
 * `performer`: create an API user from a CSR, issue a pairing token (shown once), set an IP allow-list.
 */
export function consoleActions(app: ServiceApp, kit: ConsoleKit, options: ConsoleActionsOptions): void {
  const perform = performer(kit, options)
  const guarded = { preHandler: [kit.signedIn, kit.csrf], bodyLimit: FORM_BODY_LIMIT }

  app.post(`${kit.prefix}/api-users`, guarded, async (request, reply) => {
    const input = {
      name: field(request.body, 'name'),
      role: field(request.body, 'role'),
      csrPem: field(request.body, 'csrPem'),
    }
    const done = await perform(
      request,
      'create-api-user',
      { name: input.name, apiUserRole: input.role },
      (role) => mayCreateApiUser(role, input.role),
      () => registerApiUser(options.db, input, options.clock.now()),
      (user) => ({ apiUserId: user.id }),
    )
    return done.ok
      ? options.apiUsersPage(
          request,
          reply,
          { notice: `API user ${done.value.name} created: its API key is ${done.value.id}` },
          201,
        )
      : options.apiUsersPage(request, reply, { error: done.error }, done.status)
  })

  app.post<{ Params: { id: string } }>(
    `${kit.prefix}/api-users/:id/pairing-token`,
    guarded,
    async (request, reply) => {
      const apiUserId = request.params.id
      const done = await perform(request, 'issue-pairing-token', { apiUserId }, isAdmin, () =>
        issuePairingToken(options.db, options.link, apiUserId),
      )
      if (!done.ok) return options.apiUsersPage(request, reply, { error: done.error }, done.status)
      return kit.page(reply, 'workspace/pairing-token', { title: 'Pairing token', issued: done.value })
    },
  )

  app.post<{ Params: { id: string } }>(
    `${kit.prefix}/api-users/:id/allowed-ips`,
    guarded,
    async (request, reply) => {
      const apiUserId = request.params.id
      const addresses = field(request.body, 'allowedIps')
        .split(/[\s,]+/)
        .filter((address) => address !== '')
      const done = await perform(
        request,
        'set-allowed-ips',
        { apiUserId, allowedIps: addresses },
        (role) => role === 'OWNER',
        () => setAllowedIps(options.db, apiUserId, addresses),
      )
      return done.ok
        ? options.apiUsersPage(request, reply, { notice: `allow-list of ${apiUserId} saved` }, 200)
        : options.apiUsersPage(request, reply, { error: done.error }, done.status)
    },
  )
}
