import { RecordRefused } from '../errors.js'
import type { RequestFacts } from './plan.js'

export const MAX_IDENTIFIER_LENGTH = 1_024

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * Refuses, before a request joins a batch, the identifiers a database would not store exactly as given: a
 * lone UTF-16 surrogate (SQLite stores U+FFFD, so a retry never matches), a NUL (PostgreSQL refuses the
 * whole statement, failing every request of the batch), or an unbounded length.
 */
export function checkFacts(facts: RequestFacts): void {
  for (const [name, value] of [
    ['requestId', facts.requestId],
    ['signerId', facts.signerId],
  ] as const) {
    if (value === null) continue
    if (typeof value !== 'string' || value.length === 0 || value.length > MAX_IDENTIFIER_LENGTH)
      throw new RecordRefused(`${name} must be text of 1 to ${MAX_IDENTIFIER_LENGTH} characters`)
    if (LONE_SURROGATE.test(value)) throw new RecordRefused(`${name} is not well-formed text (a lone UTF-16 surrogate)`)
    if (value.includes('\u0000')) throw new RecordRefused(`${name} contains a NUL character`)
  }
}
