import { readFigures, velocityLocks, writeReservations } from '../velocity/index.js'
import type { VelocityFigures, VelocitySeries } from '../velocity/index.js'
import type { WriteSession } from '../database/index.js'

/**
 * The transaction policy's velocity windows on the same ledger as the callback handler's: the figures of a
 * transaction's series read under their locks, and its amounts reserved in the same write that records the
 * decision, so two replicas can never both pass a window that only one transaction fits in.
 */
const ROUTE = 'hub-transaction'

export async function readTransactionVelocity(
  session: WriteSession,
  series: readonly VelocitySeries[],
  now: number,
): Promise<VelocityFigures[]> {
  if (series.length === 0) return []
  await session.lock(velocityLocks(series))
  return readFigures(session.db, series, now)
}

export async function reserveTransactionVelocity(
  session: WriteSession,
  txId: string,
  series: readonly VelocitySeries[],
  now: number,
): Promise<void> {
  await writeReservations(
    session.db,
    series.map((item) => ({ route: ROUTE, requestId: txId, series: item })),
    now,
  )
}
