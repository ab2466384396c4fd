import { CountersignError } from '../protocol/index.js'

/** The database could not be reached or a write could not be made durable. */
export class StoreUnavailable extends CountersignError {
  readonly code = 'CS_STORE_UNAVAILABLE'
}

/** A write that contradicts recorded state: a second vote, a vote by a non-approver, a decided request. */
export class StoreConflict extends CountersignError {
  readonly code = 'CS_STORE_CONFLICT'
}

export class NotFound extends CountersignError {
  readonly code = 'CS_NOT_FOUND'
}
