import { tables, type Executor } from '../database/types.js'
import type { HubAuthTables } from './schema.js'

/** Fireblocks keeps an Idempotency-Key for 24 hours (hub-api.md §1.6). */
export const IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000

export interface IdempotencyScope {
  readonly apiKey: string
  readonly key: string
}

/** The first request made with a key, and its answer once given (`status` undefined while pending). */
export interface IdempotencyRecord {
  readonly requestHash: string
  readonly status: number | undefined
  readonly responseBody: string | undefined
  readonly createdAt: number
}

/**
 * Reserves `scope` for a request whose hash (method, target, raw body) is `requestHash`, atomically across
 * replicas. Returns undefined when this request holds the reservation (it is the first, or the key's last
 * use is older than 24 h), else the record of the first request, which decides the answer.
 */
export async function reserveIdempotencyKey(
  db: Executor,
  scope: IdempotencyScope,
  requestHash: string,
  now: number,
): Promise<IdempotencyRecord | undefined> {
  const idempotency = tables<HubAuthTables>(db)
  const fresh = { request_hash: requestHash, status: null, response_body: null, created_at: now }
  const reserved = await idempotency
    .insertInto('hub_idempotency_keys')
    .values({ api_key: scope.apiKey, idempotency_key: scope.key, ...fresh })
    .onConflict((conflict) =>
      conflict
        .columns(['api_key', 'idempotency_key'])
        .doUpdateSet(fresh)
        .where('hub_idempotency_keys.created_at', '<=', now - IDEMPOTENCY_RETENTION_MS),
    )
    .returning('idempotency_key')
    .execute()
  if (reserved.length === 1) return undefined
  const row = await idempotency
    .selectFrom('hub_idempotency_keys')
    .select(['request_hash', 'status', 'response_body', 'created_at'])
    .where('api_key', '=', scope.apiKey)
    .where('idempotency_key', '=', scope.key)
    .executeTakeFirstOrThrow()
  return {
    requestHash: row.request_hash,
    status: row.status === null ? undefined : Number(row.status),
    responseBody: row.response_body ?? undefined,
    createdAt: Number(row.created_at),
  }
}

/** Records the answer given to the request holding the reservation, for replays. */
export async function completeIdempotencyKey(
  db: Executor,
  scope: IdempotencyScope,
  answer: { readonly status: number; readonly responseBody: string },
): Promise<void> {
  await tables<HubAuthTables>(db)
    .updateTable('hub_idempotency_keys')
    .set({ status: answer.status, response_body: answer.responseBody })
    .where('api_key', '=', scope.apiKey)
    .where('idempotency_key', '=', scope.key)
    .execute()
}

/** Deletes the keys older than 24 h; returns how many. */
export async function purgeExpiredIdempotencyKeys(db: Executor, now: number): Promise<number> {
  const deleted = await tables<HubAuthTables>(db)
    .deleteFrom('hub_idempotency_keys')
    .where('created_at', '<=', now - IDEMPOTENCY_RETENTION_MS)
    .returning('idempotency_key')
    .execute()
  return deleted.length
}
