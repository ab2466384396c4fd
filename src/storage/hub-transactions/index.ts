/** The hub's transactions capability: transactions, their history and votes, the workspace keys. */
export { HUB_TRANSACTION_MIGRATIONS } from './schema.js'
export {
  countEarlierTransfers,
  expiredSigningLeases,
  insertTransaction,
  listTransactions,
  lockTransaction,
  readTransaction,
  readTransactionByExternalId,
  readTransactionHistory,
  renewSigningLease,
  signingLoad,
  transactionsInStatus,
  transitionTransaction,
} from './transactions.js'
export type {
  HubTransaction,
  StatusChange,
  TransactionFilter,
  TransactionTransition,
} from './transactions.js'
export { readTransactionVotes, recordTransactionVote } from './votes.js'
export type { TransactionVote } from './votes.js'
export { deleteKeySets, putKeySet, putWorkspaceKey, readKeySets, readWorkspaceKeys } from './keys.js'
export type { KeySet, WorkspaceKey } from './keys.js'
export { readTransactionVelocity, reserveTransactionVelocity } from './velocity.js'
