import type { ServicePlugin } from '../../service/index.js'
import { findApiUser, type StorageDatabase } from '../../storage/index.js'
import type { LinkHub } from '../link/index.js'
import { API_CODES, HubApiError } from './api-error.js'
import { ADMINS, SIGNING_ROLES, type HubRouteConfig, type Role } from './roles.js'

/**
 * `POST /v1/management/api_users/{userId}/pairing_token` (protocol.md §6.1): a single-use pairing token,
 * valid one hour, for an enabled Signer or Admin API user — the only roles that hold key shares. A new
 * token for an API user already paired re-enrols it: once used, the previous refresh token stops working.
 */
/** The pairing token of `userId`, with the API user as `POST …/pairing_token` answers; 4xx HubApiError otherwise. */
export async function issuePairingToken(db: StorageDatabase, link: LinkHub, userId: string) {
  const user = await db.read((reader) => findApiUser(reader, userId))
  if (user === undefined || !user.enabled)
    throw new HubApiError(404, API_CODES.notFound, `no enabled API user ${userId}`)
  if (!SIGNING_ROLES.includes(user.role as Role))
    throw new HubApiError(
      400,
      API_CODES.validation,
      `API user ${user.id} is a ${user.role}: only Signer and Admin API users can be paired with a co-signer`,
    )
  return {
    id: user.id,
    name: user.name,
    role: user.role,
    enabled: user.enabled,
    userType: 'API',
    status: 'PENDING_DEVICE_PAIRING',
    pairingToken: await link.issuePairingToken(user.id),
  }
}

export function pairingRoutes(options: {
  readonly db: StorageDatabase
  readonly link: LinkHub
}): ServicePlugin {
  const config: { config: HubRouteConfig } = { config: { roles: ADMINS } }
  return async (app) => {
    app.post<{ Params: { userId: string } }>(
      '/v1/management/api_users/:userId/pairing_token',
      config,
      (request) => issuePairingToken(options.db, options.link, request.params.userId),
    )
  }
}
