import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import type { Clock } from '../../core/index.js'
import type { ServicePlugin } from '../../service/index.js'
import {
  hubCosignerStore,
  type CallbackHandlerConfig,
  type CosignerRequestType,
  type HubCosignerStore,
  type HubLinkStore,
  type LinkParty,
  type StorageDatabase,
} from '../../storage/index.js'
import type { LinkHub } from '../link/index.js'
import { API_CODES, HubApiError, parseInput } from './api-error.js'
import { callbackHandlerConfig, callbackHandlerEcho, callbackHandlerView } from './callback-handler.js'
import { decodeCursor, encodeCursor, type Position } from './paging.js'
import { ADMINS, type HubRouteConfig } from './roles.js'

/**
 * The co-signers API (beta) of hub-api.md §7, served behind `restAuthentication` to Admins. A co-signer is
 * a customer party paired over the link (docs/cosigner-protocol.md): its id is the enrolment's `cosignerId`,
 * and its one API key is the API user it paired for (a party per API user). Pairing, updating the callback
 * handler and unpairing are asynchronous in Fireblocks (202 + `Location` of a `Status`); the hub applies
 * them at once, so the status reads `COMPLETED`. Unpairing revokes the party's refresh token.
 */

export interface CosignerRoutesOptions {
  readonly db: StorageDatabase
  readonly clock: Clock
  readonly link: LinkHub
  readonly parties: HubLinkStore
}

const DEFAULT_PAGE_SIZE = 10
const MAX_PAGE_SIZE = 100
const MAX_NAME_LENGTH = 100
/** The link does not carry the co-signer's software version yet. */
const VERSION_UNKNOWN = { hash: 'unknown', name: 'unknown' } as const

const admins: { config: HubRouteConfig } = { config: { roles: ADMINS } }

const PageQuery = z.object({
  order: z.enum(['ASC', 'DESC']).default('DESC'),
  pageCursor: z.string().min(1).optional(),
  pageSize: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
})
const RenameBody = z.object({ name: z.string().trim().min(1).max(MAX_NAME_LENGTH).optional() })
const PairBody = z.object({ callbackHandler: z.unknown().optional() })
const UpdateBody = z.object({
  callbackHandler: z.unknown().refine((value) => value !== undefined, 'required'),
})

const parse = <T extends z.ZodType>(schema: T, value: unknown, what: string) =>
  parseInput(schema, value ?? {}, what)

const notFound = (message: string) => new HubApiError(404, API_CODES.notFound, message)

/** `{ data, next }` (hub-api.md §11 item 8c): items in (enrolledAt, id) order, after the cursor's position. */
function page<T>(items: readonly T[], positionOf: (item: T) => Position, query: z.output<typeof PageQuery>) {
  const sign = query.order === 'ASC' ? 1 : -1
  const compare = (a: Position, b: Position) =>
    sign * (a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  const after = decodeCursor(query.pageCursor)
  const sorted = [...items].sort((a, b) => compare(positionOf(a), positionOf(b)))
  const rest = after === undefined ? sorted : sorted.filter((item) => compare(positionOf(item), after) > 0)
  const data = rest.slice(0, query.pageSize)
  const last = data.at(-1)
  return {
    data,
    next: rest.length > data.length && last !== undefined ? encodeCursor(positionOf(last)) : null,
  }
}

const partyPosition = (party: LinkParty): Position => ({ createdAt: party.enrolledAt, id: party.cosignerId })
const apiKeyPosition = (party: LinkParty): Position => ({ createdAt: party.enrolledAt, id: party.name })

/** The customer co-signer's callback handler, if one was set for its current enrolment. */
export async function currentCallbackHandler(
  store: HubCosignerStore,
  party: LinkParty,
): Promise<CallbackHandlerConfig | undefined> {
  const handler = await store.callbackHandler(party.name)
  return handler?.cosignerId === party.cosignerId ? handler : undefined
}

/**
 * What `GET /cosigner/v1/callback` answers the co-signer (docs/cosigner-protocol.md): its callback handler
 * in full, the pinned certificate included, or undefined when it has none.
 */
export function cosignerCallbackSource(db: StorageDatabase, clock: Clock) {
  const store = hubCosignerStore(db, clock)
  return async (party: LinkParty) => {
    const handler = await currentCallbackHandler(store, party)
    return handler === undefined
      ? undefined
      : { ...callbackHandlerEcho(handler), ...callbackHandlerView(handler) }
  }
}

export function cosignerRoutes(options: CosignerRoutesOptions): ServicePlugin {
  const store = hubCosignerStore(options.db, options.clock)

  const cosigners = async () => (await options.parties.parties()).filter((party) => party.kind === 'customer')

  const cosignerParty = async (cosignerId: string): Promise<LinkParty> => {
    const party = (await cosigners()).find((candidate) => candidate.cosignerId === cosignerId)
    if (party === undefined) throw notFound(`no co-signer ${cosignerId}`)
    return party
  }

  /** The co-signer's party, when `apiKeyId` is the API user it is paired for, still enrolled. */
  const pairedParty = async (cosignerId: string, apiKeyId: string): Promise<LinkParty> => {
    const party = await cosignerParty(cosignerId)
    if (party.name !== apiKeyId || party.revokedAt !== null)
      throw notFound(
        `API key ${apiKeyId} is not paired with co-signer ${cosignerId}: issue it a pairing token ` +
          '(POST /v1/management/api_users/{userId}/pairing_token) and pair its co-signer with it',
      )
    return party
  }

  const cosignerView = (party: LinkParty, names: ReadonlyMap<string, string>) => ({
    archived: party.revokedAt !== null,
    id: party.cosignerId,
    name: names.get(party.cosignerId) ?? party.displayName ?? party.name,
    type: 'PLAIN',
    version: VERSION_UNKNOWN,
  })

  const apiKeyView = async (party: LinkParty) => {
    const handler = await currentCallbackHandler(store, party)
    return {
      id: party.name,
      ...(party.lastSeen === null ? {} : { lastSeen: new Date(party.lastSeen).toISOString() }),
      ...(handler === undefined ? {} : { callbackHandler: callbackHandlerView(handler) }),
    }
  }

  /** Applies a command and answers 202 with the `Location` of its status. */
  const command = async (
    reply: { code(status: number): unknown; header(name: string, value: string): unknown },
    party: LinkParty,
    type: CosignerRequestType,
    callbackHandler: CallbackHandlerConfig | null,
  ) => {
    const request = await store.apply({
      id: randomUUID(),
      cosignerId: party.cosignerId,
      apiUserId: party.name,
      type,
      callbackHandler,
    })
    const path = [party.cosignerId, 'api_keys', party.name, request.id].map(encodeURIComponent).join('/')
    reply.code(202)
    reply.header('location', `/v1/cosigners/${path}`)
  }

  type CosignerParams = { Params: { cosignerId: string } }
  type ApiKeyParams = { Params: { cosignerId: string; apiKeyId: string } }

  return async (app) => {
    app.get('/v1/cosigners', admins, async (request) => {
      const query = parse(PageQuery, request.query, 'getCosigners')
      const names = await store.names()
      const found = page(await cosigners(), partyPosition, query)
      return { data: found.data.map((party) => cosignerView(party, names)), next: found.next }
    })

    app.get<CosignerParams>('/v1/cosigners/:cosignerId', admins, async (request) =>
      cosignerView(await cosignerParty(request.params.cosignerId), await store.names()),
    )

    app.patch<CosignerParams>('/v1/cosigners/:cosignerId', admins, async (request) => {
      const body = parse(RenameBody, request.body, 'RenameCosigner')
      const party = await cosignerParty(request.params.cosignerId)
      if (body.name !== undefined) await store.rename(party.cosignerId, body.name)
      return cosignerView(party, await store.names())
    })

    app.get<CosignerParams>('/v1/cosigners/:cosignerId/api_keys', admins, async (request) => {
      const query = parse(PageQuery, request.query, 'getApiKeys')
      const party = await cosignerParty(request.params.cosignerId)
      const found = page(party.revokedAt === null ? [party] : [], apiKeyPosition, query)
      return { data: await Promise.all(found.data.map(apiKeyView)), next: found.next }
    })

    const apiKeyPath = '/v1/cosigners/:cosignerId/api_keys/:apiKeyId'

    app.get<ApiKeyParams>(apiKeyPath, admins, async (request) =>
      apiKeyView(await pairedParty(request.params.cosignerId, request.params.apiKeyId)),
    )

    app.put<ApiKeyParams>(apiKeyPath, admins, async (request, reply) => {
      const body = parse(PairBody, request.body, 'PairApiKeyRequest')
      const handler = body.callbackHandler === undefined ? null : callbackHandlerConfig(body.callbackHandler)
      const party = await pairedParty(request.params.cosignerId, request.params.apiKeyId)
      await command(reply, party, 'PAIR_API_KEY', handler)
      return {
        id: party.name,
        ...(handler === null ? {} : { callbackHandler: callbackHandlerEcho(handler) }),
      }
    })

    app.patch<ApiKeyParams>(apiKeyPath, admins, async (request, reply) => {
      const body = parse(UpdateBody, request.body, 'UpdateCallbackHandlerRequest')
      const handler = callbackHandlerConfig(body.callbackHandler)
      const party = await pairedParty(request.params.cosignerId, request.params.apiKeyId)
      await command(reply, party, 'UPDATE_CALLBACK_HANDLER', handler)
      return { id: party.name, callbackHandler: callbackHandlerEcho(handler) }
    })

    app.delete<ApiKeyParams>(apiKeyPath, admins, async (request, reply) => {
      const party = await pairedParty(request.params.cosignerId, request.params.apiKeyId)
      const unpaired = await apiKeyView(party)
      // Revoked first: once the token is refused, a crash before the record below leaves nothing usable.
      await options.link.revokeParty(party.name)
      await command(reply, party, 'UNPAIR_API_KEY', null)
      return unpaired
    })

    app.get<{ Params: { cosignerId: string; apiKeyId: string; requestId: string } }>(
      `${apiKeyPath}/:requestId`,
      admins,
      async (request) => {
        const { cosignerId, apiKeyId, requestId } = request.params
        const found = await store.request(requestId)
        if (found === undefined || found.cosignerId !== cosignerId || found.apiUserId !== apiKeyId)
          throw notFound(`no request ${requestId} for API key ${apiKeyId} of co-signer ${cosignerId}`)
        return { status: found.status, type: found.type }
      },
    )
  }
}
