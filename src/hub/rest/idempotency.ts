import { createHash } from 'node:crypto'
import type { Clock } from '../../core/index.js'
import {
  completeIdempotencyKey,
  purgeExpiredIdempotencyKeys,
  reserveIdempotencyKey,
  type IdempotencyScope,
  type StorageDatabase,
} from '../../storage/index.js'
import { API_CODES, HubApiError } from './api-error.js'
import { every } from './every.js'

/** Fireblocks' own words (hub-api.md §1.6). */
export const KEY_REUSED_AFTER_INTERNAL_ERROR =
  "This operation doesn't support the usage of the same idempotency key after an internal error"
export const KEY_REUSED_FOR_ANOTHER_REQUEST =
  'This idempotency key was already used for a different request (another operation or body)'
export const KEY_IN_PROGRESS = 'A request with this idempotency key is still being processed'

const PURGE_INTERVAL_MS = 60_000

/** An answer given instead of running the handler. */
export interface ReplayedAnswer {
  readonly status: number
  /** The first answer's body byte for byte (JSON, or empty). */
  readonly body: string
}

interface IdempotentRequest {
  readonly method: string
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  readonly raw: { readonly url?: string | undefined }
}

/** What a request asks for: method, target and body, so one key cannot replay another operation's answer. */
function requestHash(request: IdempotentRequest, rawBody: Uint8Array): string {
  return createHash('sha256')
    .update(`${request.method} ${request.raw.url ?? ''}\n`)
    .update(rawBody)
    .digest('hex')
}

function idempotencyKey(request: IdempotentRequest): string | undefined {
  const key = request.headers['idempotency-key']
  if (key === undefined) return undefined
  if (typeof key !== 'string' || key.length === 0 || key.length > 255) {
    throw new HubApiError(
      400,
      API_CODES.validation,
      'Idempotency-Key must be one value of 1 to 255 characters',
    )
  }
  return key
}

/**
 * Idempotency-Key (hub-api.md §1.6), scoped by API key: the first request with a key runs and its answer
 * (status and body) is kept 24 h; a repeat gets that answer verbatim; a repeat with another operation or
 * body, or after a 5xx, is refused with 400. The reservation is durable and atomic, so two replicas never
 * both run the operation.
 */
export function idempotencyKeys(database: StorageDatabase, clock: Clock) {
  const reserved = new WeakMap<object, IdempotencyScope>()
  const purgeDue = every(PURGE_INTERVAL_MS, clock)

  /** Before the handler: an answer to send instead of running it, or undefined to run it. */
  async function begin(
    request: IdempotentRequest,
    apiKey: string,
    rawBody: Uint8Array,
  ): Promise<ReplayedAnswer | undefined> {
    const key = idempotencyKey(request)
    if (key === undefined) return undefined
    const scope = { apiKey, key }
    const hash = requestHash(request, rawBody)
    const first = await database.write(async ({ db }) => {
      const now = clock.now()
      if (purgeDue()) await purgeExpiredIdempotencyKeys(db, now)
      return reserveIdempotencyKey(db, scope, hash, now)
    })
    if (first === undefined) {
      reserved.set(request, scope)
      return undefined
    }
    if (first.requestHash !== hash)
      throw new HubApiError(400, API_CODES.validation, KEY_REUSED_FOR_ANOTHER_REQUEST)
    if (first.status === undefined) throw new HubApiError(409, API_CODES.conflict, KEY_IN_PROGRESS)
    if (first.status >= 500) throw new HubApiError(400, API_CODES.validation, KEY_REUSED_AFTER_INTERNAL_ERROR)
    return { status: first.status, body: first.responseBody ?? '' }
  }

  /** When the answer is sent: keeps it for the key's repeats (only for the request holding the key). */
  async function finish(request: object, status: number, payload: unknown): Promise<void> {
    const scope = reserved.get(request)
    if (scope === undefined) return
    reserved.delete(request)
    const responseBody =
      typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : ''
    await database.write(({ db }) => completeIdempotencyKey(db, scope, { status, responseBody }))
  }

  return { begin, finish }
}
