import { CountersignError, defineErrorCodes } from '../core/index.js'

export const STORAGE_ERRORS = defineErrorCodes('storage', {
  CS_STORE_UNAVAILABLE: {
    meaning: 'the database cannot be reached, a write could not be made durable, or the store file is gone',
    fix: 'check that the database is up and the store URL and file are right; requests are answered RETRY meanwhile',
  },
  CS_STORE_CONFLICT: {
    meaning:
      'the write contradicts recorded state: a second vote, a vote by a non-approver, a decided request',
    fix: 'list the held requests (countersign approvals list) and act on one that is still awaiting approval',
  },
  CS_NOT_FOUND: {
    meaning: 'no recorded request or reservation has that id',
    fix: 'check the requestId (countersign audit export lists every recorded request)',
  },
  CS_VOTE_REFUSED: {
    meaning:
      "an approver's vote was not recorded: its signature does not verify with the approver's registered key, or it names another request, route, payload digest or approver, or was signed outside the time window",
    fix: "sign the vote again with the approver's own key for the request as held: countersign approvals approve|reject ID --key FILE",
  },
  CS_STORE_RECORD_REFUSED: {
    meaning: 'a value cannot be stored faithfully (not well-formed text, a NUL character, or too long)',
    fix: 'send identifiers as well-formed UTF-8 text without NUL, at most 1,024 characters',
  },
  CS_STORE_SCHEMA_UNKNOWN: {
    meaning:
      'the store holds tables its migrations did not record (an earlier release or another application made them)',
    fix: 'point the store at a new, empty database, schema or file; keep the old one for its audit trail',
  },
})

export class StoreUnavailable extends CountersignError {
  readonly code = 'CS_STORE_UNAVAILABLE'
}

export class StoreConflict extends CountersignError {
  readonly code = 'CS_STORE_CONFLICT'
}

export class NotFound extends CountersignError {
  readonly code = 'CS_NOT_FOUND'
}

export class RecordRefused extends CountersignError {
  readonly code = 'CS_STORE_RECORD_REFUSED'
}

export class StoreSchemaUnknown extends CountersignError {
  readonly code = 'CS_STORE_SCHEMA_UNKNOWN'
}

export class VoteRefused extends CountersignError {
  readonly code = 'CS_VOTE_REFUSED'
}
