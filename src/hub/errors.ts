import { CountersignError, defineErrorCodes } from '../core/index.js'

export const HUB_ERRORS = defineErrorCodes('hub', {
  CS_HUB_TX_NOT_FOUND: {
    meaning: 'no transaction of this workspace has that id',
    fix: 'check the id returned by createTransaction, or look the transaction up by its externalTxId',
  },
  CS_HUB_VOTE_REFUSED: {
    meaning:
      'the vote was not recorded: the transaction is not awaiting authorization, or the voter is not one of its approvers',
    fix: 'vote only on a PENDING_AUTHORIZATION transaction, as an API user its matching rule names in `approvers`',
  },
})

export type HubErrorCode = keyof typeof HUB_ERRORS.codes

export class TransactionMissing extends CountersignError {
  readonly code = 'CS_HUB_TX_NOT_FOUND'
}

export class VoteRefused extends CountersignError {
  readonly code = 'CS_HUB_VOTE_REFUSED'
}
