import { sql } from 'kysely'
import { chunked } from '../database/index.js'
import { LockRank, tables, type AggregateLock, type Executor } from '../database/index.js'
import type { VelocityTables } from './schema.js'

/**
 * The velocity ledger: per (window, group) time buckets of approved USD cents and counts. A lookup sums the
 * buckets that overlap the window, O(buckets) whatever the history; each reservation also leaves a row per
 * series so `velocity release` can take it back exactly once.
 */
// The same shape as the policy's VelocityProbe: the storage layer may not import the policy (DESIGN.md),
// so it states what it needs itself and the handler passes one for the other.
export interface VelocitySeries {
  readonly windowId: string
  readonly groupKey: string
  readonly windowMs: number
  readonly bucketMs: number
  /** What approving this request adds to the series, in integer USD cents. */
  readonly amountUsdCents: number
}

export interface VelocityFigures {
  readonly sumUsdCents: number
  readonly count: number
}

export function bucketStart(now: number, bucketMs: number): number {
  return Math.floor(now / bucketMs) * bucketMs
}

/** The lock of a velocity group: every window of one group serialises its read-then-reserve. */
export function velocityLocks(series: readonly { windowId: string; groupKey: string }[]): AggregateLock[] {
  return series.map((item) => ({ rank: LockRank.velocity, key: `${item.windowId}\u0000${item.groupKey}` }))
}

/** SQLite refuses more than 500 terms in one compound SELECT. */
const SERIES_PER_QUERY = 200

/**
 * The figures of many series, in the order given: one sub-select per series (each keeps its own window),
 * joined by UNION ALL, a few hundred per query. A bucket counts when any part of it lies inside the
 * window: the figures err long (an amount counts up to one bucket longer than the window), never short.
 */
export async function readFigures(
  db: Executor,
  series: readonly VelocitySeries[],
  now: number,
): Promise<VelocityFigures[]> {
  const figures: VelocityFigures[] = series.map(() => ({ sumUsdCents: 0, count: 0 }))
  let offset = 0
  for (const chunk of chunked(series, 1, SERIES_PER_QUERY)) {
    const selects = chunk.map(
      (item, index) =>
        sql`SELECT ${offset + index} AS k, SUM(sum_usd_cents) AS sum_usd_cents, SUM(count) AS count
            FROM velocity_buckets
            WHERE window_id = ${item.windowId} AND group_key = ${item.groupKey}
              AND bucket_start > ${now - item.windowMs - item.bucketMs}`,
    )
    const { rows } = await sql<{ k: number; sum_usd_cents: number | null; count: number | null }>`${sql.join(
      selects,
      sql` UNION ALL `,
    )}`.execute(db)
    for (const row of rows)
      figures[Number(row.k)] = { sumUsdCents: Number(row.sum_usd_cents ?? 0), count: Number(row.count ?? 0) }
    offset += chunk.length
  }
  return figures
}

export interface Reservation {
  readonly route: string
  readonly requestId: string
  readonly series: VelocitySeries
}

/**
 * Records reservations in their series' current buckets: a reservation row each (the primary key refuses a
 * request counted twice, failing the transaction) and one upsert for all touched buckets.
 */
export async function writeReservations(
  executor: Executor,
  reservations: readonly Reservation[],
  now: number,
): Promise<void> {
  if (reservations.length === 0) return
  const db = tables<VelocityTables>(executor)
  const buckets = new Map<string, VelocityTables['velocity_buckets']>()
  for (const { series } of reservations) {
    const start = bucketStart(now, series.bucketMs)
    const key = JSON.stringify([series.windowId, series.groupKey, start])
    const bucket = buckets.get(key) ?? {
      window_id: series.windowId,
      group_key: series.groupKey,
      bucket_start: start,
      sum_usd_cents: 0,
      count: 0,
    }
    bucket.sum_usd_cents += series.amountUsdCents
    bucket.count += 1
    buckets.set(key, bucket)
  }
  for (const chunk of chunked(reservations, 7)) {
    await db
      .insertInto('velocity_reservations')
      .values(
        chunk.map(({ route, requestId, series }) => ({
          route,
          request_id: requestId,
          window_id: series.windowId,
          group_key: series.groupKey,
          bucket_start: bucketStart(now, series.bucketMs),
          amount_usd_cents: series.amountUsdCents,
          released_at: null,
        })),
      )
      .execute()
  }
  for (const chunk of chunked([...buckets.values()], 5)) {
    await db
      .insertInto('velocity_buckets')
      .values(chunk)
      .onConflict((conflict) =>
        conflict.columns(['window_id', 'group_key', 'bucket_start']).doUpdateSet({
          sum_usd_cents: sql`velocity_buckets.sum_usd_cents + excluded.sum_usd_cents`,
          count: sql`velocity_buckets.count + excluded.count`,
        }),
      )
      .execute()
  }
}

export interface ReleasedReservation {
  readonly windowId: string
  readonly groupKey: string
  readonly amountUsdCents: number
}

/** Takes back every active reservation of a request; returns what it released. */
export async function releaseReservations(
  executor: Executor,
  route: string,
  requestId: string,
  now: number,
): Promise<ReleasedReservation[]> {
  const db = tables<VelocityTables>(executor)
  const rows = await db
    .selectFrom('velocity_reservations')
    .select(['window_id', 'group_key', 'bucket_start', 'amount_usd_cents'])
    .where('route', '=', route)
    .where('request_id', '=', requestId)
    .where('released_at', 'is', null)
    .execute()
  for (const row of rows) {
    await db
      .updateTable('velocity_buckets')
      .set({
        sum_usd_cents: sql`sum_usd_cents - ${row.amount_usd_cents}`,
        count: sql`count - 1`,
      })
      .where('window_id', '=', row.window_id)
      .where('group_key', '=', row.group_key)
      .where('bucket_start', '=', row.bucket_start)
      .execute()
  }
  await db
    .updateTable('velocity_reservations')
    .set({ released_at: now })
    .where('route', '=', route)
    .where('request_id', '=', requestId)
    .where('released_at', 'is', null)
    .execute()
  return rows.map((row) => ({
    windowId: row.window_id,
    groupKey: row.group_key,
    amountUsdCents: Number(row.amount_usd_cents),
  }))
}

/** The velocity groups a request holds reservations in (to lock them before releasing). */
export async function reservedSeriesLocks(
  db: Executor,
  route: string,
  requestId: string,
): Promise<AggregateLock[]> {
  const rows = await tables<VelocityTables>(db)
    .selectFrom('velocity_reservations')
    .select(['window_id', 'group_key'])
    .where('route', '=', route)
    .where('request_id', '=', requestId)
    .where('released_at', 'is', null)
    .execute()
  return velocityLocks(rows.map((row) => ({ windowId: row.window_id, groupKey: row.group_key })))
}
