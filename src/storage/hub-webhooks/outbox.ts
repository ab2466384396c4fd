import { randomUUID } from 'node:crypto'
import { chunked, tables, type StorageDatabase, type WriteSession } from '../database/index.js'
import {
  insertEndpoint,
  selectEndpoints,
  subscribedEndpoints,
  type NewWebhookEndpoint,
  type WebhookEndpoint,
} from './endpoints.js'
import type { HubWebhookTables } from './schema.js'

/**
 * The hub's webhook outbox: one row per (notification, endpoint), written in the same transaction as the
 * change it announces, so that a status change and its notification commit together or not at all; the
 * delivery workers of every replica then claim due rows under a lease and record each attempt's outcome.
 * The store decides nothing: when to retry and when to give up is the caller's (src/hub/webhooks).
 */

export type WebhookState = 'pending' | 'delivered' | 'failed'

/** One event to announce; the rows are its copies for each subscribed endpoint. */
export interface WebhookNotification {
  readonly notificationId: string
  /** The v2 event name endpoints subscribe to (`transaction.status.updated`). */
  readonly eventType: string
  readonly resourceId: string | null
  /** The exact body for one endpoint (its payload version decides the envelope). */
  readonly bodyFor: (endpoint: WebhookEndpoint) => string
}

export interface OutboxEntry {
  readonly id: string
  readonly notificationId: string
  readonly endpointId: string
  readonly url: string
  readonly eventType: string
  readonly resourceId: string | null
  readonly body: string
  /** Attempts made so far (a claimed row's current attempt is not counted until its outcome is marked). */
  readonly attempts: number
  readonly nextAttemptAt: number
  readonly state: WebhookState
  /** Why the last attempt failed: a status or a network cause, never a response body. */
  readonly lastError: string | null
  readonly createdAt: number
  readonly updatedAt: number
}

/** A row held by one worker until `leaseMs` after the claim; only its token can record the outcome. */
export interface ClaimedWebhook extends OutboxEntry {
  readonly claimToken: string
}

export type WebhookClaim = Pick<ClaimedWebhook, 'id' | 'claimToken'>

export interface WebhookOutbox {
  /** Inside the caller's write transaction: a row per enabled endpoint subscribed to the event; their ids. */
  enqueue(session: WriteSession, notification: WebhookNotification, now: number): Promise<string[]>
  /**
   * Up to `limit` pending rows due at `now`, oldest first, held for `leaseMs`: no other claim returns them
   * before the lease ends (a worker that dies mid-delivery thus delays, never loses, a notification).
   */
  claimDue(now: number, limit: number, leaseMs: number): Promise<ClaimedWebhook[]>
  /** Each returns false when the claim was lost (the lease ended and another worker took the row). */
  markDelivered(claim: WebhookClaim, now: number): Promise<boolean>
  markRetry(claim: WebhookClaim, now: number, nextAttemptAt: number, error: string): Promise<boolean>
  markFailed(claim: WebhookClaim, now: number, error: string): Promise<boolean>
  /** Gives claimed rows back unattempted, due again at `at` (a worker backing off an unreachable endpoint). */
  defer(claims: readonly WebhookClaim[], at: number, now: number): Promise<void>
  /** The rows, oldest first, optionally of one state (operators, tests). */
  entries(state?: WebhookState): Promise<OutboxEntry[]>
  addEndpoint(endpoint: NewWebhookEndpoint, now: number): Promise<WebhookEndpoint>
  listEndpoints(): Promise<WebhookEndpoint[]>
}

type OutboxRow = HubWebhookTables['hub_webhook_outbox']

/**
 * Rows enqueued by this process in one millisecond keep their order; rows of two replicas in the same
 * millisecond have no order to keep (each commits on its own).
 */
let lastOrderAt = 0
let lastOrder = 0
function nextOrder(now: number): number {
  lastOrder = now === lastOrderAt ? lastOrder + 1 : 0
  lastOrderAt = now
  return lastOrder
}

function toEntry(row: OutboxRow): OutboxEntry {
  return {
    id: row.id,
    notificationId: row.notification_id,
    endpointId: row.endpoint_id,
    url: row.url,
    eventType: row.event_type,
    resourceId: row.resource_id,
    body: row.body,
    attempts: Number(row.attempts),
    nextAttemptAt: Number(row.next_attempt_at),
    state: row.state as WebhookState,
    lastError: row.last_error,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  }
}

/** `WebhookOutbox.enqueue`, for a caller that holds a write session but no outbox. */
export async function enqueueWebhook(
  session: WriteSession,
  notification: WebhookNotification,
  now: number,
): Promise<string[]> {
  const endpoints = await subscribedEndpoints(session.db, notification.eventType)
  const rows: OutboxRow[] = endpoints.map((endpoint) => ({
    id: randomUUID(),
    enqueue_order: nextOrder(now),
    notification_id: notification.notificationId,
    endpoint_id: endpoint.id,
    url: endpoint.url,
    event_type: notification.eventType,
    resource_id: notification.resourceId,
    body: notification.bodyFor(endpoint),
    attempts: 0,
    next_attempt_at: now,
    state: 'pending',
    claim_token: null,
    last_error: null,
    created_at: now,
    updated_at: now,
  }))
  const db = tables<HubWebhookTables>(session.db)
  for (const chunk of chunked(rows, 15)) await db.insertInto('hub_webhook_outbox').values(chunk).execute()
  return rows.map((row) => row.id)
}

async function claimRows(database: StorageDatabase, now: number, limit: number, leaseMs: number) {
  const claimToken = randomUUID()
  return database.write(async (session) => {
    const db = tables<HubWebhookTables>(session.db)
    const due = db
      .selectFrom('hub_webhook_outbox')
      .selectAll()
      .where('state', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .orderBy('created_at')
      .orderBy('enqueue_order')
      .orderBy('id')
      .limit(limit)
    // PostgreSQL replicas skip each other's rows instead of queueing behind them; SQLite has one writer at
    // a time (BEGIN IMMEDIATE), which serialises claims by itself.
    const rows = await (database.dialect === 'postgres' ? due.forUpdate().skipLocked() : due).execute()
    if (rows.length === 0) return []
    await db
      .updateTable('hub_webhook_outbox')
      .set({ claim_token: claimToken, next_attempt_at: now + leaseMs, updated_at: now })
      .where(
        'id',
        'in',
        rows.map((row) => row.id),
      )
      .execute()
    return rows.map((row) => ({ ...toEntry(row), claimToken }))
  })
}

/** Records an attempt's outcome on a row still held by `claim`. */
async function settleClaim(
  database: StorageDatabase,
  claim: WebhookClaim,
  change: Pick<OutboxRow, 'state' | 'next_attempt_at' | 'last_error' | 'updated_at'>,
): Promise<boolean> {
  return database.write(async (session) => {
    const result = await tables<HubWebhookTables>(session.db)
      .updateTable('hub_webhook_outbox')
      .set((builder) => ({ ...change, attempts: builder('attempts', '+', 1), claim_token: null }))
      .where('id', '=', claim.id)
      .where('claim_token', '=', claim.claimToken)
      .where('state', '=', 'pending')
      .executeTakeFirst()
    return Number(result.numUpdatedRows) === 1
  })
}

export function webhookOutbox(database: StorageDatabase): WebhookOutbox {
  return {
    enqueue: enqueueWebhook,
    claimDue: (now, limit, leaseMs) => claimRows(database, now, limit, leaseMs),
    markDelivered: (claim, now) =>
      settleClaim(database, claim, {
        state: 'delivered',
        next_attempt_at: now,
        last_error: null,
        updated_at: now,
      }),
    markRetry: (claim, now, nextAttemptAt, error) =>
      settleClaim(database, claim, {
        state: 'pending',
        next_attempt_at: nextAttemptAt,
        last_error: error,
        updated_at: now,
      }),
    markFailed: (claim, now, error) =>
      settleClaim(database, claim, {
        state: 'failed',
        next_attempt_at: now,
        last_error: error,
        updated_at: now,
      }),
    defer: async (claims, at, now) => {
      if (claims.length === 0) return
      await database.write(async (session) => {
        for (const claim of claims)
          await tables<HubWebhookTables>(session.db)
            .updateTable('hub_webhook_outbox')
            .set({ claim_token: null, next_attempt_at: at, updated_at: now })
            .where('id', '=', claim.id)
            .where('claim_token', '=', claim.claimToken)
            .where('state', '=', 'pending')
            .execute()
      })
    },
    entries: (state) =>
      database.read(async (db) => {
        let query = tables<HubWebhookTables>(db)
          .selectFrom('hub_webhook_outbox')
          .selectAll()
          .orderBy('created_at')
          .orderBy('enqueue_order')
          .orderBy('id')
        if (state !== undefined) query = query.where('state', '=', state)
        return (await query.execute()).map(toEntry)
      }),
    addEndpoint: (endpoint, now) => database.write((session) => insertEndpoint(session.db, endpoint, now)),
    listEndpoints: () => database.read(selectEndpoints),
  }
}
