import { CountersignError, defineErrorCodes } from '../core/index.js'

/** The codes of the decision store. */
export const STORE_ERRORS = defineErrorCodes('store', {
  CS_STORE_UNAVAILABLE: {
    meaning: 'the decision store cannot be opened or reached, or a write did not complete',
    fix: 'check the store URL or file path, its permissions, and that PostgreSQL is running; the handler answers RETRY meanwhile',
  },
  CS_STORE_CONFLICT: {
    meaning: 'an operation conflicts with what the store already holds (e.g. a vote on a settled hold)',
    fix: 'read the current state (countersign approvals list) and retry only if it still applies',
  },
  CS_NOT_FOUND: {
    meaning: 'the record named does not exist in the store',
    fix: 'check the id (countersign approvals list, countersign audit list)',
  },
})

export type StoreErrorCode = keyof typeof STORE_ERRORS.codes

/** The database could not be reached or a write could not be made durable. */
export class StoreUnavailable extends CountersignError {
  readonly code = 'CS_STORE_UNAVAILABLE' satisfies StoreErrorCode
}

/** A write that contradicts recorded state: a second vote, a vote by a non-approver, a decided request. */
export class StoreConflict extends CountersignError {
  readonly code = 'CS_STORE_CONFLICT' satisfies StoreErrorCode
}

export class NotFound extends CountersignError {
  readonly code = 'CS_NOT_FOUND' satisfies StoreErrorCode
}
