import type { ZodType } from 'zod'
import type { ServicePlugin } from '../../service/index.js'
import {
  listTransactions,
  readTransaction,
  readTransactionByExternalId,
  StoreConflict,
  type HubTransaction,
  type StorageDatabase,
} from '../../storage/index.js'
import { TransactionMissing, VoteRefused } from '../errors.js'
import type { TransactionPipeline } from '../pipeline/transaction-pipeline.js'
import {
  CreateTransactionSchema,
  SUPPORTED_OPERATIONS,
  type CreateTransaction,
} from '../transactions/request-schema.js'
import { transactionResponse } from '../transactions/transaction-view.js'
import { API_CODES, HubApiError, parseInput } from './api-error.js'
import { decodeCursor, encodeCursor, pageUrl } from './paging.js'
import { INITIATORS, READERS, principalOf, type HubRouteConfig } from './roles.js'

/**
 * Transactions (hub-api.md §5): create, get by id and by externalTxId, list with the `next-page` /
 * `prev-page` headers, cancel; and the hub's own approval endpoints for transactions a rule holds for a
 * quorum (Fireblocks approves in its Console and mobile app, which the hub does not have).
 */
export interface TransactionRouteOptions {
  readonly db: StorageDatabase
  readonly pipeline: TransactionPipeline
  /** Checks what only the workspace knows (the asset, the source vault, the destination); throws HubApiError. */
  readonly check: (request: CreateTransaction) => Promise<void>
}

const MAX_PAGE = 500
const DEFAULT_PAGE = 200

const parse = <T extends ZodType>(schema: T, body: unknown, what: string) =>
  parseInput(schema, body ?? {}, what)

function checkOperation(body: unknown): void {
  const operation = (body as { operation?: unknown } | undefined)?.operation ?? 'TRANSFER'
  if (!(SUPPORTED_OPERATIONS as readonly unknown[]).includes(operation))
    throw new HubApiError(
      400,
      API_CODES.validation,
      `operation ${JSON.stringify(operation)} is not supported by this hub; use ${SUPPORTED_OPERATIONS.join(' or ')}`,
    )
}

const config = (roles: HubRouteConfig['roles']): { config: HubRouteConfig } => ({ config: { roles } })

async function found(db: StorageDatabase, txId: string): Promise<HubTransaction> {
  const tx = await db.read((reader) => readTransaction(reader, txId))
  if (tx === undefined) throw new HubApiError(404, API_CODES.notFound, `Transaction ${txId} was not found`)
  return tx
}

interface ListQuery {
  readonly next?: string
  readonly prev?: string
  readonly before?: string
  readonly after?: string
  readonly status?: string
  readonly sort?: string
  readonly limit?: string
  readonly sourceId?: string
  readonly assets?: string
}

function pageSize(limit: string | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE
  const value = Number(limit)
  if (!Number.isInteger(value) || value < 1 || value > MAX_PAGE)
    throw new HubApiError(400, API_CODES.validation, `limit must be an integer from 1 to ${MAX_PAGE}`)
  return value
}

function timeBound(value: string, name: string): number {
  if (!/^\d+$/.test(value)) throw new HubApiError(400, API_CODES.validation, `${name} is Unix milliseconds`)
  return Number(value)
}

export function transactionRoutes(options: TransactionRouteOptions): ServicePlugin {
  const { db, pipeline } = options
  return async (app) => {
    app.post('/v1/transactions', config(INITIATORS), async (request) => {
      checkOperation(request.body)
      const body = parse(CreateTransactionSchema, request.body, 'invalid transaction request')
      await options.check(body)
      try {
        const tx = await pipeline.create({
          createdBy: principalOf(request).id,
          externalTxId: body.externalTxId ?? null,
          sourceId: body.source.id,
          request: body,
        })
        return { id: tx.id, status: tx.status }
      } catch (error) {
        if (error instanceof StoreConflict) throw new HubApiError(400, API_CODES.conflict, error.message)
        throw error
      }
    })

    app.get<{ Params: { txId: string } }>('/v1/transactions/:txId', config(READERS), async (request) =>
      transactionResponse(await found(db, request.params.txId)),
    )

    app.get<{ Params: { externalTxId: string } }>(
      '/v1/transactions/external_tx_id/:externalTxId',
      config(READERS),
      async (request) => {
        const tx = await db.read((reader) => readTransactionByExternalId(reader, request.params.externalTxId))
        if (tx === undefined)
          throw new HubApiError(
            404,
            API_CODES.notFound,
            `No transaction has externalTxId ${request.params.externalTxId}`,
          )
        return transactionResponse(tx)
      },
    )

    app.get<{ Querystring: ListQuery }>('/v1/transactions', config(READERS), async (request, reply) => {
      const query = request.query
      const limit = pageSize(query.limit)
      const sort = query.sort === 'ASC' ? 'ASC' : 'DESC'
      const backwards = query.prev !== undefined
      const cursor = decodeCursor(query.next ?? query.prev)
      const filter = {
        ...(query.status === undefined ? {} : { status: query.status }),
        ...(query.assets === undefined ? {} : { assets: query.assets.split(',').filter(Boolean) }),
        ...(query.sourceId === undefined ? {} : { sourceId: query.sourceId }),
        ...(query.after === undefined ? {} : { createdAfter: timeBound(query.after, 'after') }),
        ...(query.before === undefined ? {} : { createdBefore: timeBound(query.before, 'before') }),
      }
      // A previous page is read in the opposite order from its cursor, then put back in the asked order.
      const readSort = backwards ? (sort === 'ASC' ? 'DESC' : 'ASC') : sort
      const rows = await db.read((reader) =>
        listTransactions(reader, { ...filter, sort: readSort, limit, ...(cursor ? { cursor } : {}) }),
      )
      const page = backwards ? rows.reverse() : rows
      const first = page[0]
      const last = page.at(-1)
      const more = page.length === limit
      if (last !== undefined && (more || backwards))
        reply.header('next-page', pageUrl(request, 'next', encodeCursor(last)))
      if (first !== undefined && (cursor !== undefined || backwards) && !(backwards && !more))
        reply.header('prev-page', pageUrl(request, 'prev', encodeCursor(first)))
      return page.map(transactionResponse)
    })

    app.post<{ Params: { txId: string } }>(
      '/v1/transactions/:txId/cancel',
      config(INITIATORS),
      async (request) => {
        const tx = await found(db, request.params.txId)
        if (!(await pipeline.cancel(tx.id)))
          throw new HubApiError(
            400,
            API_CODES.validation,
            `Transaction ${tx.id} is ${tx.status}; only a transaction that has not been signed can be cancelled`,
          )
        return { success: true }
      },
    )

    for (const [verb, vote] of [
      ['approve', 'APPROVED'],
      ['reject', 'REJECTED'],
    ] as const) {
      app.post<{ Params: { txId: string } }>(
        `/v1/transactions/:txId/${verb}`,
        config(INITIATORS),
        async (request) => {
          try {
            const tx = await pipeline.vote(request.params.txId, principalOf(request).id, vote)
            return { id: tx.id, status: tx.status }
          } catch (error) {
            if (error instanceof TransactionMissing)
              throw new HubApiError(404, API_CODES.notFound, error.message)
            if (error instanceof StoreConflict || error instanceof VoteRefused)
              throw new HubApiError(400, API_CODES.validation, error.message)
            throw error
          }
        },
      )
    }
  }
}
