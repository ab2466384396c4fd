import { identifierProblem } from '../../protocol/index.js'
import { RecordRefused } from '../errors.js'
import type { RequestFacts } from './plan.js'

/**
 * Refuses, before a request joins a batch, the identifiers a database would not store exactly as given: a
 * lone UTF-16 surrogate (SQLite stores U+FFFD, so a retry never matches), a NUL (PostgreSQL refuses the
 * whole statement, failing every request of the batch), or an unbounded length. The handler refuses them at
 * the protocol edge already; the store does not rely on every caller doing so.
 */
export function checkFacts(facts: RequestFacts): void {
  for (const [name, value] of [
    ['requestId', facts.requestId],
    ['signerId', facts.signerId],
  ] as const) {
    if (value === null) continue
    const problem = typeof value === 'string' ? identifierProblem(value) : 'is not text'
    if (problem !== undefined) throw new RecordRefused(`${name} ${problem}`)
  }
}
