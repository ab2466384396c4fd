import { LockRank, tables, type Executor, type WriteSession } from '../database/index.js'
import { StoreConflict } from '../errors.js'
import type { HubTransactionTables } from './schema.js'

/** An approver's verdict on a transaction held for a quorum: each approver votes once. */
export interface TransactionVote {
  readonly userId: string
  readonly vote: 'APPROVED' | 'REJECTED'
  readonly at: number
}

export async function recordTransactionVote(
  session: WriteSession,
  txId: string,
  vote: TransactionVote,
): Promise<void> {
  await session.lock([{ rank: LockRank.request, key: `hub-tx\u0000${txId}` }])
  const inserted = await tables<HubTransactionTables>(session.db)
    .insertInto('hub_transaction_votes')
    .values({ tx_id: txId, user_id: vote.userId, vote: vote.vote, at: vote.at })
    .onConflict((conflict) => conflict.doNothing())
    .executeTakeFirst()
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) !== 1)
    throw new StoreConflict(`${vote.userId} has already voted on transaction ${txId}`)
}

export async function readTransactionVotes(db: Executor, txId: string): Promise<TransactionVote[]> {
  const rows = await tables<HubTransactionTables>(db)
    .selectFrom('hub_transaction_votes')
    .select(['user_id', 'vote', 'at'])
    .where('tx_id', '=', txId)
    .orderBy('at', 'asc')
    .execute()
  return rows.map((row) => ({
    userId: row.user_id,
    vote: row.vote === 'APPROVED' ? 'APPROVED' : 'REJECTED',
    at: Number(row.at),
  }))
}
