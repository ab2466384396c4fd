import { tables, type Executor } from '../database/index.js'
import type { VelocityTables } from './schema.js'

/** A window as the policy declares it: the ledger knows its buckets, not how long its windows are. */
export interface WindowSpan {
  readonly windowId: string
  readonly windowMs: number
  readonly bucketMs: number
}

/** What one group has used of one window right now. */
export interface WindowUsage {
  readonly windowId: string
  readonly groupKey: string
  readonly sumUsdCents: number
  readonly count: number
}

/**
 * The figures of every group with reservations in each window, summed over the buckets a decision would
 * count now (the same bucket rule as `readFigures`: erring long, never short). Groups whose buckets all
 * lie outside the window, or were released to zero, are left out.
 */
export async function readUsage(
  db: Executor,
  windows: readonly WindowSpan[],
  now: number,
): Promise<WindowUsage[]> {
  const usage: WindowUsage[] = []
  for (const window of windows) {
    const rows = await tables<VelocityTables>(db)
      .selectFrom('velocity_buckets')
      .select((builder) => [
        'group_key',
        builder.fn.sum<number>('sum_usd_cents').as('sum_usd_cents'),
        builder.fn.sum<number>('count').as('count'),
      ])
      .where('window_id', '=', window.windowId)
      .where('bucket_start', '>', now - window.windowMs - window.bucketMs)
      .groupBy('group_key')
      .orderBy('group_key')
      .execute()
    for (const row of rows) {
      const figures = { sumUsdCents: Number(row.sum_usd_cents), count: Number(row.count) }
      if (figures.count > 0 || figures.sumUsdCents > 0)
        usage.push({ windowId: window.windowId, groupKey: row.group_key, ...figures })
    }
  }
  return usage
}
