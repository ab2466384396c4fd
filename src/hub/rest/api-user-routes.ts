import { systemClock, type Clock } from '../../core/index.js'
import type { ServicePlugin } from '../../service/index.js'
import { findApiUser, listApiUsers, type ApiUserRecord, type StorageDatabase } from '../../storage/index.js'
import { API_CODES, HubApiError } from './api-error.js'
import { mayCreateApiUser, registerApiUser } from './api-users.js'
import { insufficientPermissions } from './authenticate.js'
import { ADMINS, principalOf, type HubRouteConfig } from './roles.js'

const admins: { config: HubRouteConfig } = { config: { roles: ADMINS } }

/** `APIUser` of the SDK (hub-api.md §6); every registered API user is ready to call the API. */
function apiUserView(user: ApiUserRecord) {
  return {
    id: user.id,
    name: user.name,
    role: user.role,
    enabled: user.enabled,
    status: 'READY',
    userType: 'API',
  }
}

/** `UserResponse` of `GET /v1/users`: the hub's users are its API users (it has no Console users). */
function userView(user: ApiUserRecord) {
  return {
    id: user.id,
    firstName: user.name,
    lastName: '',
    role: user.role,
    email: '',
    enabled: user.enabled,
  }
}

function createApiUserBody(body: unknown): { name: string; role: string; csrPem: string } {
  const { name, role, csrPem } = (body ?? {}) as Record<string, unknown>
  if (typeof name !== 'string' || typeof role !== 'string' || typeof csrPem !== 'string') {
    throw new HubApiError(400, API_CODES.validation, 'CreateAPIUser needs the strings role, name and csrPem')
  }
  return { name, role, csrPem }
}

/**
 * The API-user management of hub-api.md §6, served behind `restAuthentication`: list and create API users
 * (a CSR registers the key their JWTs verify with), read an API user's IP allow-list, list the users.
 */
export function apiUserRoutes(database: StorageDatabase, clock: Clock = systemClock): ServicePlugin {
  return async (app) => {
    app.get('/v1/management/api_users', admins, async () => ({
      users: (await database.read((db) => listApiUsers(db))).map(apiUserView),
    }))

    app.post('/v1/management/api_users', admins, async (request, reply) => {
      const input = createApiUserBody(request.body)
      if (!mayCreateApiUser(principalOf(request).role, input.role)) throw insufficientPermissions()
      await registerApiUser(database, input, clock.now())
      // Fireblocks answers 200 with an empty body ("User creation approval request has been sent").
      return reply.code(200).send()
    })

    app.get<{ Params: { userId: string } }>(
      '/v1/management/api_users/:userId/whitelist_ip_addresses',
      admins,
      async (request) => {
        const user = await database.read((db) => findApiUser(db, request.params.userId))
        if (user === undefined) throw new HubApiError(404, API_CODES.notFound, 'API user not found')
        return { userId: user.id, whitelistedIps: user.allowedIps }
      },
    )

    app.get('/v1/users', admins, async () => (await database.read((db) => listApiUsers(db))).map(userView))
  }
}
