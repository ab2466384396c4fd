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

export async function readFigures(
  session: SqlSession,
  series: VelocitySeries,
  now: number,
): Promise<VelocityFigures> {
  const row = await session.one<{ sum_usd_cents: number | null; count: number | null }>(
    `SELECT SUM(sum_usd_cents) AS sum_usd_cents, SUM(count) AS count FROM velocity_buckets
     WHERE window_id = ? AND group_key = ? AND bucket_start > ?`,
    [series.windowId, series.groupKey, now - series.windowMs],
  )
  return { sumUsdCents: Number(row?.sum_usd_cents ?? 0), count: Number(row?.count ?? 0) }
}

/** Adds the request to each series' current bucket; a requestId already reserved is not counted again. */
export async function reserve(
  session: SqlSession,
  requestId: string,
  series: readonly VelocitySeries[],
  now: number,
): Promise<void> {
  for (const item of series) {
    const start = bucketStart(now, item.bucketMs)
    const inserted = await session.run(
      `INSERT INTO velocity_reservations (request_id, window_id, group_key, bucket_start, amount_usd_cents)
       VALUES (?, ?, ?, ?, ?) ON CONFLICT (request_id, window_id, group_key) DO NOTHING`,
      [requestId, item.windowId, item.groupKey, start, item.amountUsdCents],
    )
    if (inserted === 0) continue
    await session.run(
      `INSERT INTO velocity_buckets (window_id, group_key, bucket_start, sum_usd_cents, count) VALUES (?, ?, ?, ?, 1)
       ON CONFLICT (window_id, group_key, bucket_start)
       DO UPDATE SET sum_usd_cents = velocity_buckets.sum_usd_cents + excluded.sum_usd_cents,
                     count = velocity_buckets.count + 1`,
      [item.windowId, item.groupKey, start, item.amountUsdCents],
    )
  }
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
