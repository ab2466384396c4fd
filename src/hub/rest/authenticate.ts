import { randomUUID, type KeyObject } from 'node:crypto'
import { systemClock, type Clock } from '../../core/index.js'
import { RequestAuthFailed, verifyRequest, type NonceStore } from '../../keys/index.js'
import { importRsaPublicKey } from '../../protocol/index.js'
import { describeError, type ServicePlugin } from '../../service/index.js'
import {
  claimNonce,
  findApiUser,
  purgeExpiredNonces,
  type ApiUserRecord,
  type StorageDatabase,
} from '../../storage/index.js'
import { HubApiError } from './api-error.js'
import { isRole } from './api-users.js'
import { every } from './every.js'
import { idempotencyKeys } from './idempotency.js'
import { captureRawBodies } from './raw-body.js'
import { setPrincipal, type HubRouteConfig, type Role } from './roles.js'

/** Where refusals and failures are logged (a pino logger fits). Never given a token or a key. */
export interface RestAuthLog {
  warn(details: object, message: string): void
  error(details: object, message: string): void
}

export interface RestAuthenticationOptions {
  /** The hub's store, migrated with `HUB_AUTH_MIGRATIONS`: API users, nonces, Idempotency-Key records. */
  readonly database: StorageDatabase
  /** The `/v1` route plugins; each route declares `config: { roles }` (`HubRouteConfig`). */
  readonly routes: readonly ServicePlugin[]
  readonly clock?: Clock
  /** Tolerated clock difference on `iat` and `exp` (default 5 s). */
  readonly clockSkewSeconds?: number
  readonly log?: RestAuthLog
  /** Records each state-changing call that succeeded (the hub's audit chain). */
  readonly audit?: (event: 'api-call', body: Record<string, unknown>) => Promise<void>
}

/** −8, the documented code of a role failure (hub-api.md §2.5), answered with 401 as Fireblocks does. */
export function insufficientPermissions(): HubApiError {
  return new HubApiError(401, -8, 'Insufficient permissions')
}

const NONCE_PURGE_INTERVAL_MS = 60_000
const CHANGING_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
const SILENT_LOG: RestAuthLog = { warn: () => {}, error: () => {} }

/** The IPv4 address of an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`), as a dual-stack listener reports it. */
const sourceAddress = (ip: string): string => ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '')

/** Nonces used up in the store, so a replay is refused by every replica and after a restart. */
function databaseNonces(database: StorageDatabase, clock: Clock): NonceStore {
  const purgeDue = every(NONCE_PURGE_INTERVAL_MS, clock)
  return {
    claim: (apiKey, nonce, retainUntilMs) =>
      database.write(async ({ db }) => {
        const now = clock.now()
        if (purgeDue()) await purgeExpiredNonces(db, now)
        return claimNonce(db, { apiKey, nonce, expiresAt: retainUntilMs }, now)
      }),
  }
}

/**
 * Steps 1 and 2 of hub-api.md §2.7, before the body is read: the X-API-Key names an enabled API user, and
 * the request comes from an address on its allow-list (an empty list admits any).
 */
async function identify(
  database: StorageDatabase,
  request: { readonly headers: Readonly<Record<string, unknown>>; readonly ip: string },
): Promise<ApiUserRecord> {
  const apiKey = request.headers['x-api-key']
  const user = typeof apiKey === 'string' ? await database.read((db) => findApiUser(db, apiKey)) : undefined
  if (user === undefined || !user.enabled) {
    throw new RequestAuthFailed(
      'unknown_api_key',
      typeof apiKey === 'string'
        ? 'no enabled API user has this API key'
        : 'the request has no X-API-Key header',
      typeof apiKey === 'string' ? { apiKey } : {},
    )
  }
  const source = sourceAddress(request.ip)
  if (user.allowedIps.length > 0 && !user.allowedIps.includes(source)) {
    throw new RequestAuthFailed('ip_not_allowed', "the source address is not on the API user's allow-list", {
      apiKey: user.id,
      sourceIp: source,
    })
  }
  return user
}

/** The roles a route admits; a route without them cannot be registered behind this plugin (fail closed). */
function routeRoles(config: unknown): readonly Role[] | undefined {
  const roles = (config as Partial<HubRouteConfig> | undefined)?.roles
  return Array.isArray(roles) ? roles : undefined
}

/**
 * The REST API's authentication around the hub's `/v1` routes (hub-api.md §1, §2): every request gets an
 * `X-Request-ID`; its body is kept raw; the API user is identified (X-API-Key, IP allow-list), the JWT
 * verified by `verifyRequest` (RS256 only, signature, sub, iat/exp, `uri` byte for byte, `bodyHash` over
 * the raw bytes, the nonce used up durably), the route's roles enforced, the JSON body parsed, and the
 * Idempotency-Key honoured. A refusal is 401 `{message, code}` with Fireblocks' code; a handler reads the
 * caller with `principalOf(request)`.
 */
export function restAuthentication(options: RestAuthenticationOptions): ServicePlugin {
  const clock = options.clock ?? systemClock
  const log = options.log ?? SILENT_LOG
  const nonces = databaseNonces(options.database, clock)
  const publicKeys = new Map<string, KeyObject>()
  const keyOf = (user: ApiUserRecord): KeyObject => {
    const cached = publicKeys.get(user.publicKeyPem)
    if (cached !== undefined) return cached
    const key = importRsaPublicKey(user.publicKeyPem, `the key of API user ${user.id}`)
    publicKeys.set(user.publicKeyPem, key)
    return key
  }

  return async (app) => {
    const bodies = captureRawBodies(app)
    const idempotency = idempotencyKeys(options.database, clock)
    const identified = new WeakMap<object, ApiUserRecord>()

    app.addHook('onRoute', (route) => {
      if (routeRoles(route.config) === undefined) {
        throw new Error(
          `${[route.method].flat().join(',')} ${route.url} declares no config.roles: every /v1 route must`,
        )
      }
    })
    // Hub answers keep their status and {message, code}; anything else goes to the service's handler.
    app.setErrorHandler((error, _request, reply) => {
      if (error instanceof HubApiError) return reply.code(error.statusCode).send(error.body)
      throw error
    })

    const refuse = (failure: RequestAuthFailed) => {
      log.warn(
        { reason: failure.reason, detail: failure.detail, facts: failure.facts },
        'REST request refused',
      )
      return failure.toResponseBody()
    }

    app.addHook('onRequest', async (request, reply) => {
      reply.header('x-request-id', randomUUID())
      try {
        identified.set(request, await identify(options.database, request))
      } catch (error) {
        if (!(error instanceof RequestAuthFailed)) throw error
        return reply.code(401).send(refuse(error))
      }
    })

    app.addHook('preValidation', async (request, reply) => {
      const user = identified.get(request)
      if (user === undefined) throw new Error('the request was not identified')
      const rawBody = bodies.rawBody(request)
      try {
        await verifyRequest(
          { url: request.raw.url ?? '', headers: request.headers, body: rawBody },
          {
            keys: { publicKeyFor: (apiKey) => (apiKey === user.id ? keyOf(user) : undefined) },
            nonces,
            clock,
            exactUri: true,
            ...(options.clockSkewSeconds === undefined ? {} : { clockSkewSeconds: options.clockSkewSeconds }),
          },
        )
      } catch (error) {
        if (!(error instanceof RequestAuthFailed)) throw error
        return reply.code(401).send(refuse(error))
      }
      const role = user.role
      if (!isRole(role) || !routeRoles(request.routeOptions.config)?.includes(role)) {
        log.warn({ apiKey: user.id, role, url: request.routeOptions.url }, 'REST request refused: role')
        throw insufficientPermissions()
      }
      setPrincipal(request, { id: user.id, name: user.name, role })
      request.body = await bodies.parsedBody(request, rawBody)
      const replay = await idempotency.begin(request, user.id, rawBody)
      if (replay === undefined) return
      if (replay.body.length > 0) reply.type('application/json; charset=utf-8')
      return reply.code(replay.status).send(replay.body)
    })

    app.addHook('onSend', async (request, reply, payload) => {
      try {
        await idempotency.finish(request, reply.statusCode, payload)
      } catch (error) {
        // The answer still goes out; the key stays reserved, so a repeat is refused rather than run twice.
        log.error({ cause: describeError(error) }, 'could not record the answer to an Idempotency-Key')
      }
      return payload
    })

    const audit = options.audit
    if (audit !== undefined)
      app.addHook('onResponse', async (request, reply) => {
        if (!CHANGING_METHODS.has(request.method) || reply.statusCode >= 400) return
        const caller = identified.get(request)
        try {
          await audit('api-call', {
            apiUser: caller?.id ?? null,
            method: request.method,
            route: request.routeOptions.url ?? null,
            params: { ...(request.params as Record<string, string>) },
            status: reply.statusCode,
            requestId: reply.getHeader('x-request-id') ?? null,
          })
        } catch (error) {
          log.error({ cause: describeError(error) }, 'could not record an API call in the audit')
        }
      })

    for (const routes of options.routes) await app.register(routes)
  }
}
