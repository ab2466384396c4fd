import { LockRank, tables, type Executor, type WriteSession } from '../database/index.js'
import { StoreConflict } from '../errors.js'
import type { HubTransactionTables } from './schema.js'

/**
 * The hub's transactions. A transaction moves between statuses only through `transitionTransaction`, which
 * names the statuses it may leave: two replicas racing on one transaction cannot both move it, and every
 * move is kept in the history (the status timeline the console and the webhooks show).
 */
export interface HubTransaction {
  readonly id: string
  readonly externalTxId: string | null
  readonly createdBy: string
  readonly operation: string
  readonly assetId: string
  /** The source vault account, when the source is one. */
  readonly sourceId: string | null
  readonly status: string
  readonly subStatus: string
  /** The validated request as the API user sent it. */
  readonly request: Record<string, unknown>
  /** What the hub learnt since: addresses, amounts, the policy's verdict, signatures, the signed transaction. */
  readonly detail: Record<string, unknown>
  readonly ruleId: string | null
  readonly signer: string | null
  readonly attempt: number
  readonly createdAt: number
  readonly lastUpdated: number
}

export interface TransactionTransition {
  /** The statuses the transaction may be in for the move to happen. */
  readonly from: readonly string[]
  readonly status: string
  readonly subStatus?: string
  /** Merged into the detail (top-level keys replaced). */
  readonly detail?: Record<string, unknown>
  readonly ruleId?: string | null
  readonly signer?: string | null
  readonly attempt?: number
  /** The move happens only while the transaction is at this attempt (the fencing token of a lease). */
  readonly fence?: number
  /** The signing lease the new status holds until (epoch ms); any move without one ends the lease. */
  readonly leaseUntil?: number
  readonly at: number
}

export interface TransactionFilter {
  readonly status?: string
  readonly assets?: readonly string[]
  readonly sourceId?: string
  readonly createdAfter?: number
  readonly createdBefore?: number
  readonly sort: 'ASC' | 'DESC'
  readonly limit: number
  /** Continue after this (created_at, id) position in the sort order. */
  readonly cursor?: { readonly createdAt: number; readonly id: string }
}

type Row = HubTransactionTables['hub_transactions']

const txLock = (id: string) => ({ rank: LockRank.request, key: `hub-tx\u0000${id}` })

function toTransaction(row: Row): HubTransaction {
  return {
    id: row.id,
    externalTxId: row.external_tx_id,
    createdBy: row.created_by,
    operation: row.operation,
    assetId: row.asset_id,
    sourceId: row.source_id,
    status: row.status,
    subStatus: row.sub_status,
    request: JSON.parse(row.request_json) as Record<string, unknown>,
    detail: JSON.parse(row.detail_json) as Record<string, unknown>,
    ruleId: row.rule_id,
    signer: row.signer,
    attempt: Number(row.attempt),
    createdAt: Number(row.created_at),
    lastUpdated: Number(row.last_updated),
  }
}

async function appendHistory(session: WriteSession, tx: HubTransaction): Promise<void> {
  const db = tables<HubTransactionTables>(session.db)
  const last = await db
    .selectFrom('hub_transaction_history')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .where('tx_id', '=', tx.id)
    .executeTakeFirst()
  await db
    .insertInto('hub_transaction_history')
    .values({
      tx_id: tx.id,
      seq: Number(last?.seq ?? 0) + 1,
      status: tx.status,
      sub_status: tx.subStatus,
      at: tx.lastUpdated,
    })
    .execute()
}

/** Serialises this write with every other one on transaction `id` (take it before any velocity lock). */
export function lockTransaction(session: WriteSession, id: string): Promise<void> {
  return session.lock([txLock(id)])
}

/** Records a new transaction; a second one with the same externalTxId is a conflict, on every replica. */
export async function insertTransaction(session: WriteSession, tx: HubTransaction): Promise<void> {
  await session.lock([txLock(tx.id)])
  const inserted = await tables<HubTransactionTables>(session.db)
    .insertInto('hub_transactions')
    .values({
      id: tx.id,
      external_tx_id: tx.externalTxId,
      created_by: tx.createdBy,
      operation: tx.operation,
      asset_id: tx.assetId,
      source_id: tx.sourceId,
      status: tx.status,
      sub_status: tx.subStatus,
      request_json: JSON.stringify(tx.request),
      detail_json: JSON.stringify(tx.detail),
      rule_id: tx.ruleId,
      signer: tx.signer,
      attempt: tx.attempt,
      created_at: tx.createdAt,
      last_updated: tx.lastUpdated,
      lease_until: null,
    })
    .onConflict((conflict) => conflict.doNothing())
    .executeTakeFirst()
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) !== 1)
    throw new StoreConflict(
      tx.externalTxId === null
        ? `transaction ${tx.id} already exists`
        : `a transaction with externalTxId "${tx.externalTxId}" already exists`,
    )
  await appendHistory(session, tx)
}

export async function readTransaction(db: Executor, id: string): Promise<HubTransaction | undefined> {
  const row = await tables<HubTransactionTables>(db)
    .selectFrom('hub_transactions')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst()
  return row === undefined ? undefined : toTransaction(row)
}

export async function readTransactionByExternalId(
  db: Executor,
  externalTxId: string,
): Promise<HubTransaction | undefined> {
  const row = await tables<HubTransactionTables>(db)
    .selectFrom('hub_transactions')
    .selectAll()
    .where('external_tx_id', '=', externalTxId)
    .executeTakeFirst()
  return row === undefined ? undefined : toTransaction(row)
}

export async function listTransactions(db: Executor, filter: TransactionFilter): Promise<HubTransaction[]> {
  let query = tables<HubTransactionTables>(db).selectFrom('hub_transactions').selectAll()
  if (filter.status !== undefined) query = query.where('status', '=', filter.status)
  if (filter.assets !== undefined && filter.assets.length > 0)
    query = query.where('asset_id', 'in', [...filter.assets])
  if (filter.createdAfter !== undefined) query = query.where('created_at', '>=', filter.createdAfter)
  if (filter.createdBefore !== undefined) query = query.where('created_at', '<=', filter.createdBefore)
  if (filter.sourceId !== undefined) query = query.where('source_id', '=', filter.sourceId)
  const cursor = filter.cursor
  if (cursor !== undefined) {
    const after = filter.sort === 'ASC' ? '>' : '<'
    query = query.where((eb) =>
      eb.or([
        eb('created_at', after, cursor.createdAt),
        eb.and([eb('created_at', '=', cursor.createdAt), eb('id', after, cursor.id)]),
      ]),
    )
  }
  const direction = filter.sort === 'ASC' ? 'asc' : 'desc'
  const rows = await query
    .orderBy('created_at', direction)
    .orderBy('id', direction)
    .limit(filter.limit)
    .execute()
  return rows.map(toTransaction)
}

/**
 * Moves a transaction from one of `change.from` to `change.status`; `undefined` when it was not in one of
 * them (another replica, a cancellation or a timeout moved it first), and then nothing is written.
 */
export async function transitionTransaction(
  session: WriteSession,
  id: string,
  change: TransactionTransition,
): Promise<HubTransaction | undefined> {
  await session.lock([txLock(id)])
  const current = await readTransaction(session.db, id)
  if (current === undefined || !change.from.includes(current.status)) return undefined
  if (change.fence !== undefined && current.attempt !== change.fence) return undefined
  const next: HubTransaction = {
    ...current,
    status: change.status,
    subStatus: change.subStatus ?? '',
    detail: { ...current.detail, ...change.detail },
    ruleId: change.ruleId === undefined ? current.ruleId : change.ruleId,
    signer: change.signer === undefined ? current.signer : change.signer,
    attempt: change.attempt ?? current.attempt,
    lastUpdated: Math.max(change.at, current.lastUpdated),
  }
  await tables<HubTransactionTables>(session.db)
    .updateTable('hub_transactions')
    .set({
      status: next.status,
      sub_status: next.subStatus,
      detail_json: JSON.stringify(next.detail),
      rule_id: next.ruleId,
      signer: next.signer,
      attempt: next.attempt,
      last_updated: next.lastUpdated,
      lease_until: change.leaseUntil ?? null,
    })
    .where('id', '=', id)
    .execute()
  await appendHistory(session, next)
  return next
}

/** Transactions in `status`, oldest first. */
export async function transactionsInStatus(
  db: Executor,
  status: string,
  options: { readonly limit: number },
): Promise<HubTransaction[]> {
  const rows = await tables<HubTransactionTables>(db)
    .selectFrom('hub_transactions')
    .selectAll()
    .where('status', '=', status)
    .orderBy('created_at', 'asc')
    .limit(options.limit)
    .execute()
  return rows.map(toTransaction)
}

/**
 * Extends the signing lease of `attempt` to `until`; false when the transaction no longer holds it (another
 * replica took it over, or it left PENDING_SIGNATURE): the attempt must stop.
 */
export async function renewSigningLease(
  session: WriteSession,
  id: string,
  attempt: number,
  until: number,
): Promise<boolean> {
  const renewed = await tables<HubTransactionTables>(session.db)
    .updateTable('hub_transactions')
    .set({ lease_until: until })
    .where('id', '=', id)
    .where('status', '=', 'PENDING_SIGNATURE')
    .where('attempt', '=', attempt)
    .executeTakeFirst()
  return Number(renewed.numUpdatedRows) === 1
}

/** Transactions in PENDING_SIGNATURE whose lease ran out before `now` (or that never had one), oldest first. */
export async function expiredSigningLeases(
  db: Executor,
  now: number,
  limit: number,
): Promise<HubTransaction[]> {
  const rows = await tables<HubTransactionTables>(db)
    .selectFrom('hub_transactions')
    .selectAll()
    .where('status', '=', 'PENDING_SIGNATURE')
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
    .orderBy('created_at', 'asc')
    .limit(limit)
    .execute()
  return rows.map(toTransaction)
}

/** How many attempts each signer holds now (transactions in PENDING_SIGNATURE): the dispatch's load. */
export async function signingLoad(db: Executor): Promise<Map<string, number>> {
  const rows = await tables<HubTransactionTables>(db)
    .selectFrom('hub_transactions')
    .select((eb) => ['signer', eb.fn.countAll().as('count')])
    .where('status', '=', 'PENDING_SIGNATURE')
    .groupBy('signer')
    .execute()
  return new Map(rows.flatMap((row) => (row.signer === null ? [] : [[row.signer, Number(row.count)]])))
}

export interface StatusChange {
  readonly status: string
  readonly subStatus: string
  readonly at: number
}

export async function readTransactionHistory(db: Executor, id: string): Promise<StatusChange[]> {
  const rows = await tables<HubTransactionTables>(db)
    .selectFrom('hub_transaction_history')
    .select(['status', 'sub_status', 'at'])
    .where('tx_id', '=', id)
    .orderBy('seq', 'asc')
    .execute()
  return rows.map((row) => ({ status: row.status, subStatus: row.sub_status, at: Number(row.at) }))
}

/**
 * How many transfers of `assetId` from vault `sourceId` were created before `position` and did not end
 * before signing: the account nonce the hub gives the next one when no chain node tells it.
 */
export async function countEarlierTransfers(
  db: Executor,
  where: {
    readonly sourceId: string
    readonly assetId: string
    readonly createdAt: number
    readonly id: string
  },
): Promise<number> {
  const row = await tables<HubTransactionTables>(db)
    .selectFrom('hub_transactions')
    .select((eb) => eb.fn.countAll().as('count'))
    .where('operation', '=', 'TRANSFER')
    .where('source_id', '=', where.sourceId)
    .where('asset_id', '=', where.assetId)
    .where('status', 'not in', ['BLOCKED', 'REJECTED', 'CANCELLED'])
    .where((eb) =>
      eb.or([
        eb('created_at', '<', where.createdAt),
        eb.and([eb('created_at', '=', where.createdAt), eb('id', '<', where.id)]),
      ]),
    )
    .executeTakeFirst()
  return Number(row?.count ?? 0)
}
