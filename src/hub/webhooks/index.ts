import { randomUUID, sign, type KeyObject } from 'node:crypto'
import { FlattenedSign, calculateJwkThumbprint, type JWK } from 'jose'
import type { Logger } from 'pino'
import { z } from 'zod'
import type { Clock } from '../../core/index.js'
import { ConfigInvalid, describeError, type ServicePlugin } from '../../service/index.js'
import {
  enqueueWebhook,
  webhookOutbox,
  type ClaimedWebhook,
  type StorageDatabase,
  type WebhookEndpoint,
  type WebhookOutbox,
  type WebhookPayloadVersion,
  type WriteSession,
} from '../../storage/index.js'
import { API_CODES, HubApiError } from '../rest/api-error.js'
import { ADMINS, principalOf, type HubRouteConfig } from '../rest/roles.js'

/**
 * The hub's webhooks, as Fireblocks sends them (hub-api.md §8, docs/hub-webhooks.md): a transaction event
 * is written to the outbox in the transaction that changes the transaction, then POSTed to every
 * subscribed endpoint by the delivery workers, signed over exactly the bytes sent, retried on Fireblocks'
 * schedule, and never lost across a restart (the outbox is the only state).
 */

// ---------------------------------------------------------------------------------------------------------
// Events and envelopes

export const TRANSACTION_EVENTS = ['transaction.created', 'transaction.status.updated'] as const
export type TransactionEventType = (typeof TRANSACTION_EVENTS)[number]

/** The v1 name of each event (the v1 envelope's `type`). */
const V1_TYPES: Record<TransactionEventType, string> = {
  'transaction.created': 'TRANSACTION_CREATED',
  'transaction.status.updated': 'TRANSACTION_STATUS_UPDATED',
}

/** A `TransactionResponse` (hub-api.md §5.6), exactly as `GET /v1/transactions/{id}` answers it. */
export type TransactionData = { readonly id: string } & Readonly<Record<string, unknown>>

export interface TransactionEvent {
  readonly eventType: TransactionEventType
  /** The v1 `tenantId`, the v2 `workspaceId`. */
  readonly workspaceId: string
  readonly transaction: TransactionData
}

/**
 * The body for one payload version: compact `JSON.stringify`, because receivers following Fireblocks'
 * sample verify the signature over `JSON.stringify(JSON.parse(body))`, which only gives back the bytes sent
 * when they were written that way. Keys go in the order Fireblocks sends them.
 */
export function renderWebhookBody(
  version: WebhookPayloadVersion,
  event: TransactionEvent,
  notificationId: string,
  at: number,
): string {
  if (version === 'v1')
    return JSON.stringify({
      type: V1_TYPES[event.eventType],
      tenantId: event.workspaceId,
      timestamp: at,
      data: event.transaction,
    })
  return JSON.stringify({
    id: notificationId,
    eventType: event.eventType,
    resourceId: event.transaction.id,
    workspaceId: event.workspaceId,
    createdAt: at,
    data: event.transaction,
  })
}

/**
 * Call inside the write transaction that records the transaction's change: the notification then commits
 * with it or not at all. Returns the outbox row ids (one per subscribed endpoint, none without one).
 */
export function enqueueTransactionEvent(
  session: WriteSession,
  event: TransactionEvent,
  now: number,
): Promise<string[]> {
  const notificationId = randomUUID()
  return enqueueWebhook(
    session,
    {
      notificationId,
      eventType: event.eventType,
      resourceId: event.transaction.id,
      bodyFor: (endpoint) => renderWebhookBody(endpoint.payloadVersion, event, notificationId, now),
    },
    now,
  )
}

// ---------------------------------------------------------------------------------------------------------
// Signatures

export const SIGNATURE_HEADER = 'Fireblocks-Signature'
export const JWS_SIGNATURE_HEADER = 'Fireblocks-Webhook-Signature'
export const JWKS_PATH = '/.well-known/jwks.json'
export const JWKS_CACHE_CONTROL = 'public, max-age=3600'

/** The hub's webhook signing key; `kid` names it in the JWS header and in the published JWKS. */
export interface WebhookSigningKey {
  readonly kid: string
  readonly privateKey: KeyObject
}

export interface WebhookJwk {
  readonly kty: 'RSA'
  readonly kid: string
  readonly use: 'sig'
  readonly alg: 'RS512'
  readonly n: string
  readonly e: string
}

const MIN_RSA_BITS = 2048

/**
 * Checks the key (RSA, at least 2048 bits: what RS512 and Fireblocks' receivers expect) and names it; the
 * default `kid` is the RFC 7638 thumbprint of its public key, so it changes exactly when the key does.
 */
export async function webhookSigningKey(privateKey: KeyObject, kid?: string): Promise<WebhookSigningKey> {
  const bits = privateKey.asymmetricKeyDetails?.modulusLength ?? 0
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'rsa' || bits < MIN_RSA_BITS)
    throw new ConfigInvalid([
      {
        path: 'webhooks.signingKey',
        message: 'must be an RSA private key of at least 2048 bits',
        fix: 'generate one: openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096',
      },
    ])
  return { kid: kid ?? (await calculateJwkThumbprint(publicJwk(privateKey), 'sha256')), privateKey }
}

function publicJwk(privateKey: KeyObject): JWK {
  const { n, e } = privateKey.export({ format: 'jwk' })
  return { kty: 'RSA', n: n!, e: e! }
}

/** The JWKS the hub publishes at `JWKS_PATH`: the current key and any still-trusted previous one. */
export function webhookJwks(keys: readonly WebhookSigningKey[]): { keys: WebhookJwk[] } {
  return {
    keys: keys.map(({ kid, privateKey }) => {
      const { n, e } = publicJwk(privateKey)
      return { kty: 'RSA', kid, use: 'sig', alg: 'RS512', n: n!, e: e! }
    }),
  }
}

/**
 * Both of Fireblocks' signatures over exactly `body`: the legacy `base64(RSASSA-PKCS1-v1_5-SHA512(body))`
 * and the detached RS512 JWS `<protected>..<signature>` whose payload is `base64url(body)`.
 */
export async function signWebhookBody(
  body: string,
  key: WebhookSigningKey,
): Promise<Record<typeof SIGNATURE_HEADER | typeof JWS_SIGNATURE_HEADER, string>> {
  const bytes = Buffer.from(body, 'utf8')
  const jws = await new FlattenedSign(bytes)
    .setProtectedHeader({ alg: 'RS512', kid: key.kid })
    .sign(key.privateKey)
  return {
    [SIGNATURE_HEADER]: sign('sha512', bytes, key.privateKey).toString('base64'),
    [JWS_SIGNATURE_HEADER]: `${jws.protected!}..${jws.signature}`,
  }
}

// ---------------------------------------------------------------------------------------------------------
// Retries (hub-api.md §8.3)

/** The wait after each failed attempt; the attempt after the last wait is the tenth and final one. */
export const RETRY_DELAYS_SECONDS = [10, 30, 120, 300, 900, 1800, 3600, 7200, 14400] as const
export const MAX_ATTEMPTS = RETRY_DELAYS_SECONDS.length + 1

/** What one attempt came to: a non-retryable failure is `refused`. */
export type AttemptResult =
  { readonly kind: 'delivered' } | { readonly kind: 'retryable' | 'refused'; readonly error: string }

/** 2xx delivered; 5xx, 408 and 429 worth another try; anything else (4xx, an unfollowed 3xx) refused. */
export function resultOfStatus(status: number): AttemptResult {
  if (status >= 200 && status < 300) return { kind: 'delivered' }
  const error = `HTTP ${status}`
  return status >= 500 || status === 408 || status === 429
    ? { kind: 'retryable', error }
    : { kind: 'refused', error }
}

/** When to try again after a retryable failure of attempt number `attempt` (1-based), or never. */
export function retryAt(attempt: number, failedAt: number): number | undefined {
  const delay = RETRY_DELAYS_SECONDS[attempt - 1]
  return delay === undefined ? undefined : failedAt + delay * 1000
}

// ---------------------------------------------------------------------------------------------------------
// Delivery

export interface WebhookDeliveryOptions {
  readonly db: StorageDatabase
  readonly clock: Clock
  readonly signingKey: WebhookSigningKey
  readonly log: Logger
  readonly fetch?: typeof fetch
  /** An endpoint that has not answered by then has failed this attempt (retried). */
  readonly attemptTimeoutMs?: number
  /** How often an idle worker looks for due rows (`wake` looks at once). */
  readonly pollIntervalMs?: number
  /** Rows claimed per pass. */
  readonly batchSize?: number
}

export interface WebhookDelivery {
  /** Looks for due rows now (call after committing an enqueue). */
  wake(): void
  /** Finishes the attempts in flight, then stops; undelivered rows stay in the outbox for the next worker. */
  stop(): Promise<void>
}

const DELIVERY_DEFAULTS = { attemptTimeoutMs: 10_000, pollIntervalMs: 1_000, batchSize: 20 }

/** Where a webhook goes, fit for a log line: the origin only (the path of many webhook URLs is a token). */
function originOf(url: string): string {
  try {
    return new URL(url).origin
  } catch {
    return 'an unreadable URL'
  }
}

/** Only http(s): a `file:` or `data:` URL registered by mistake or malice is never fetched. */
function isHttpUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url)
    return protocol === 'https:' || protocol === 'http:'
  } catch {
    return false
  }
}

/** `fetch failed (ECONNREFUSED)`: undici hides the cause of a network error in `cause`. */
function networkFailure(error: unknown): string {
  if (!(error instanceof Error)) return 'the request failed'
  const code = (error.cause as { code?: unknown } | undefined)?.code
  return typeof code === 'string' ? `${error.message} (${code})` : error.message
}

/** One POST of a claimed row, signed, bounded by the timeout; the response body is never read. */
async function attempt(
  row: ClaimedWebhook,
  options: Required<Omit<WebhookDeliveryOptions, 'db' | 'log'>>,
): Promise<AttemptResult> {
  if (!isHttpUrl(row.url)) return { kind: 'refused', error: 'the endpoint URL is not http(s)' }
  const controller = new AbortController()
  const timer = options.clock.setTimer(options.attemptTimeoutMs, () => controller.abort())
  try {
    const response = await options.fetch(row.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(await signWebhookBody(row.body, options.signingKey)),
      },
      body: row.body,
      signal: controller.signal,
      // A redirect would send the signed event where it was not registered: refused, not followed.
      redirect: 'manual',
    })
    // The answer is its status; a body that fails to drain must not turn a 2xx into a retry (a duplicate).
    await response.body?.cancel().catch(() => undefined)
    return resultOfStatus(response.status)
  } catch (error) {
    return {
      kind: 'retryable',
      error: controller.signal.aborted
        ? `no answer within ${options.attemptTimeoutMs} ms`
        : networkFailure(error),
    }
  } finally {
    timer.cancel()
  }
}

/**
 * Delivers one endpoint's claimed rows in enqueue order. After a retryable failure the endpoint is
 * considered down: its remaining rows are given back, unattempted, until the failed row's retry, so that
 * they keep their order and a dead endpoint costs one timeout per pass, not one per row.
 */
async function deliverToEndpoint(
  rows: readonly ClaimedWebhook[],
  outbox: WebhookOutbox,
  options: Required<Omit<WebhookDeliveryOptions, 'db'>>,
): Promise<void> {
  const { clock, log } = options
  for (const [index, row] of rows.entries()) {
    const result = await attempt(row, options)
    const now = clock.now()
    const attemptNumber = row.attempts + 1
    const facts = {
      webhookId: row.id,
      endpointId: row.endpointId,
      eventType: row.eventType,
      resourceId: row.resourceId,
      attempt: attemptNumber,
    }
    if (result.kind === 'delivered') {
      await outbox.markDelivered(row, now)
      log.info(facts, 'webhook delivered')
      continue
    }
    const next = result.kind === 'retryable' ? retryAt(attemptNumber, now) : undefined
    const failure = { ...facts, origin: originOf(row.url), error: result.error }
    if (next === undefined) {
      await outbox.markFailed(row, now, result.error)
      log.warn(failure, 'webhook failed: not retried')
      continue
    }
    await outbox.markRetry(row, now, next, result.error)
    log.warn({ ...failure, retryAt: next }, 'webhook attempt failed: will retry')
    await outbox.defer(rows.slice(index + 1), next, now)
    return
  }
}

/** Claims due rows and delivers them, endpoints in parallel; returns how many it claimed. */
async function deliverDue(outbox: WebhookOutbox, options: Required<Omit<WebhookDeliveryOptions, 'db'>>) {
  // The lease outlives the slowest pass: every row of the batch waiting out the timeout one after another.
  const leaseMs = options.batchSize * options.attemptTimeoutMs + 60_000
  const claimed = await outbox.claimDue(options.clock.now(), options.batchSize, leaseMs)
  const byEndpoint = new Map<string, ClaimedWebhook[]>()
  for (const row of claimed) byEndpoint.set(row.endpointId, [...(byEndpoint.get(row.endpointId) ?? []), row])
  await Promise.all([...byEndpoint.values()].map((rows) => deliverToEndpoint(rows, outbox, options)))
  return claimed.length
}

/**
 * Starts a delivery worker over the outbox of `db`. Every replica may run one: rows are claimed under a
 * lease, so each attempt is made by one worker, and a worker that dies mid-attempt leaves its rows to be
 * claimed again when the lease ends (a receiver may then see an event twice: dedupe on the v2 `id`).
 */
export function startWebhookDelivery(options: WebhookDeliveryOptions): WebhookDelivery {
  const settings = { ...DELIVERY_DEFAULTS, fetch: globalThis.fetch, ...options }
  const outbox = webhookOutbox(options.db)
  let stopped = false
  let woken = false
  let nap: AbortController | undefined

  const rest = async () => {
    if (woken) return
    nap = new AbortController()
    await settings.clock.sleep(settings.pollIntervalMs, nap.signal).catch(() => undefined)
    nap = undefined
  }
  const loop = (async () => {
    while (!stopped) {
      woken = false
      let claimed = 0
      try {
        claimed = await deliverDue(outbox, settings)
      } catch (error) {
        settings.log.error({ cause: describeError(error) }, 'webhook delivery pass failed')
      }
      if (claimed < settings.batchSize && !stopped) await rest()
    }
  })()

  return {
    wake: () => {
      woken = true
      nap?.abort()
    },
    stop: async () => {
      stopped = true
      nap?.abort()
      await loop
    },
  }
}

// ---------------------------------------------------------------------------------------------------------
// Routes: the JWKS, and the minimal v2 management API (hub-api.md §8.4)

export interface WebhookRoutesOptions {
  readonly db: StorageDatabase
  readonly clock: Clock
  readonly log: Logger
}

const createWebhookRequest = z.object({
  url: z.url({ protocol: /^https?$/ }),
  events: z.array(z.enum(TRANSACTION_EVENTS)).min(1),
  description: z.string().max(1024).optional(),
  enabled: z.boolean().optional(),
  /** A hub extension: Fireblocks' v1 envelope unless `v2` is asked for. */
  payloadVersion: z.enum(['v1', 'v2']).optional(),
})

/** `Webhook` of the ts-sdk (`models/webhook.ts`). */
function toWebhook(endpoint: WebhookEndpoint) {
  return {
    id: endpoint.id,
    url: endpoint.url,
    events: endpoint.events,
    status: endpoint.enabled ? 'ENABLED' : 'DISABLED',
    createdAt: endpoint.createdAt,
    updatedAt: endpoint.updatedAt,
    ...(endpoint.description === null ? {} : { description: endpoint.description }),
  }
}

const ADMIN_ROUTE: { config: HubRouteConfig } = { config: { roles: ADMINS } }

/**
 * The JWKS receivers verify `Fireblocks-Webhook-Signature` with: public, outside the API's authentication.
 * `signingKeys`: the signing key first, then any previous key receivers may still meet.
 */
export function webhookJwksRoute(signingKeys: readonly WebhookSigningKey[]): ServicePlugin {
  const jwks = webhookJwks(signingKeys)
  return async (app) => {
    app.get(JWKS_PATH, async (_request, reply) => {
      reply.header('cache-control', JWKS_CACHE_CONTROL)
      return jwks
    })
  }
}

/** The v2 management routes (`POST/GET /v1/webhooks`), behind the API's authentication. */
export function webhookRoutes(options: WebhookRoutesOptions): ServicePlugin {
  const outbox = webhookOutbox(options.db)
  return async (app) => {
    app.post('/v1/webhooks', ADMIN_ROUTE, async (request, reply) => {
      const registrar = principalOf(request)
      const parsed = createWebhookRequest.safeParse(request.body)
      if (!parsed.success) {
        const problem = new HubApiError(
          400,
          API_CODES.validation,
          `invalid webhook: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ')}`,
        )
        return reply.code(problem.statusCode).send(problem.body)
      }
      const endpoint = await outbox.addEndpoint(
        {
          id: randomUUID(),
          url: parsed.data.url,
          events: parsed.data.events,
          payloadVersion: parsed.data.payloadVersion ?? 'v1',
          enabled: parsed.data.enabled ?? true,
          description: parsed.data.description ?? null,
        },
        options.clock.now(),
      )
      options.log.info(
        { webhookId: endpoint.id, origin: originOf(endpoint.url), by: registrar.id },
        'webhook registered',
      )
      return reply.code(201).send(toWebhook(endpoint))
    })

    app.get('/v1/webhooks', ADMIN_ROUTE, async () => ({
      data: (await outbox.listEndpoints()).map(toWebhook),
      next: null,
    }))
  }
}
