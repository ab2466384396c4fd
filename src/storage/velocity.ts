import { insertRows } from './sql/insert-rows.js'
import type { SqlSession } from './sql/types.js'

/**
 * The velocity ledger: per (window, group) time buckets of approved USD cents and counts. A lookup sums the
 * buckets inside the window, O(buckets) whatever the history; each approval also leaves a reservation row
 * per series so `velocity release` can take it back exactly once.
 */
// The same shape as the policy's VelocityProbe: the store may not import the policy module (DESIGN.md), so
// it states what it needs itself and the handler passes one for the other.
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

function bucketStart(now: number, bucketMs: number): number {
  return Math.floor(now / bucketMs) * bucketMs
}

/**
 * The figures of many series in one query (one sub-select per series, so each keeps its own window), in
 * the order given.
 */
export async function readFiguresOf(
  session: SqlSession,
  series: readonly VelocitySeries[],
  now: number,
): Promise<VelocityFigures[]> {
  if (series.length === 0) return []
  const selects = series.map(
    (_, index) =>
      `SELECT ${index} AS k, SUM(sum_usd_cents) AS sum_usd_cents, SUM(count) AS count FROM velocity_buckets
       WHERE window_id = ? AND group_key = ? AND bucket_start > ?`,
  )
  const rows = await session.all<{ k: number; sum_usd_cents: number | null; count: number | null }>(
    selects.join(' UNION ALL '),
    series.flatMap((item) => [item.windowId, item.groupKey, now - item.windowMs]),
  )
  const figures: VelocityFigures[] = series.map(() => ({ sumUsdCents: 0, count: 0 }))
  for (const row of rows)
    figures[Number(row.k)] = { sumUsdCents: Number(row.sum_usd_cents ?? 0), count: Number(row.count ?? 0) }
  return figures
}

export interface Reservation {
  readonly requestId: string
  readonly series: VelocitySeries
}

/**
 * Records approvals in their series' current buckets: a reservation row each (the primary key refuses a
 * requestId counted twice, failing the whole transaction) and one upsert for all touched buckets.
 */
export async function writeReservations(
  session: SqlSession,
  reservations: readonly Reservation[],
  now: number,
): Promise<void> {
  const buckets = new Map<
    string,
    { windowId: string; groupKey: string; start: number; cents: number; count: number }
  >()
  for (const { series } of reservations) {
    const start = bucketStart(now, series.bucketMs)
    const key = JSON.stringify([series.windowId, series.groupKey, start])
    const bucket = buckets.get(key) ?? {
      windowId: series.windowId,
      groupKey: series.groupKey,
      start,
      cents: 0,
      count: 0,
    }
    bucket.cents += series.amountUsdCents
    bucket.count += 1
    buckets.set(key, bucket)
  }
  await insertRows(
    session,
    'velocity_reservations',
    ['request_id', 'window_id', 'group_key', 'bucket_start', 'amount_usd_cents'],
    reservations.map(({ requestId, series }) => [
      requestId,
      series.windowId,
      series.groupKey,
      bucketStart(now, series.bucketMs),
      series.amountUsdCents,
    ]),
  )
  await insertRows(
    session,
    'velocity_buckets',
    ['window_id', 'group_key', 'bucket_start', 'sum_usd_cents', 'count'],
    [...buckets.values()].map((bucket) => [
      bucket.windowId,
      bucket.groupKey,
      bucket.start,
      bucket.cents,
      bucket.count,
    ]),
    `ON CONFLICT (window_id, group_key, bucket_start)
     DO UPDATE SET sum_usd_cents = velocity_buckets.sum_usd_cents + excluded.sum_usd_cents,
                   count = velocity_buckets.count + excluded.count`,
  )
}

export interface ReleasedReservation {
  readonly windowId: string
  readonly groupKey: string
  readonly amountUsdCents: number
}

/** Takes back every active reservation of `requestId` (a transaction that failed); returns what it released. */
export async function release(
  session: SqlSession,
  requestId: string,
  now: number,
): Promise<ReleasedReservation[]> {
  const rows = await session.all<{
    window_id: string
    group_key: string
    bucket_start: number
    amount_usd_cents: number
  }>(
    `SELECT window_id, group_key, bucket_start, amount_usd_cents FROM velocity_reservations
     WHERE request_id = ? AND released_at IS NULL`,
    [requestId],
  )
  for (const row of rows) {
    await session.run(
      `UPDATE velocity_buckets SET sum_usd_cents = sum_usd_cents - ?, count = count - 1
       WHERE window_id = ? AND group_key = ? AND bucket_start = ?`,
      [row.amount_usd_cents, row.window_id, row.group_key, row.bucket_start],
    )
    await session.run(
      'UPDATE velocity_reservations SET released_at = ? WHERE request_id = ? AND window_id = ? AND group_key = ?',
      [now, requestId, row.window_id, row.group_key],
    )
  }
  return rows.map((row) => ({
    windowId: row.window_id,
    groupKey: row.group_key,
    amountUsdCents: Number(row.amount_usd_cents),
  }))
}
