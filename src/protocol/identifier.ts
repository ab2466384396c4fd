import { z } from 'zod'
import { NotJson, canonicalJson, isWellFormedText } from '../core/index.js'

/**
 * Identifiers (`requestId`, `txId`, `signerId`) are keys in the handler's store and in every answer. Fireblocks
 * sends UUIDs and short ids; anything that is not plain text within this limit is refused at the edge,
 * before it can reach a database that would store it unfaithfully (a lone surrogate) or not at all (NUL on
 * PostgreSQL).
 */
export const MAX_IDENTIFIER_LENGTH = 256

/** \p{Cc}: C0 controls (NUL, tab, newline...), DEL and C1 controls. */
const CONTROL_CHARACTER = /\p{Cc}/u

/** Why `value` is not a well-formed identifier, or `undefined` when it is one. */
export function identifierProblem(value: string): string | undefined {
  if (value.length === 0) return 'is empty'
  if (value.length > MAX_IDENTIFIER_LENGTH)
    return `is ${value.length} characters long, more than the limit of ${MAX_IDENTIFIER_LENGTH}`
  if (!isWellFormedText(value)) return 'contains a lone UTF-16 surrogate, which is not well-formed text'
  const control = CONTROL_CHARACTER.exec(value)
  if (control !== null) return `contains the control character ${codePointName(control[0])}`
  return undefined
}

function codePointName(character: string): string {
  return `U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`
}

/** A zod string that must be a well-formed identifier. */
export const Identifier = z.string().superRefine((value, ctx) => {
  const problem = identifierProblem(value)
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `identifier ${problem}` })
})

/** A payload's canonical JSON (its digest's and its stored copy's text), or why it cannot be recorded. */
export type Recordable = { readonly canonical: string } | { readonly problem: string }

/**
 * What the store may record for this request: the payload's canonical JSON, serialised once here for the
 * check, the digest and the stored copy, or why the request must be refused before it reaches the store:
 * a `requestId` that is not a well-formed identifier, or text in the payload that cannot be stored
 * faithfully. Refusal is deterministic, so every retry of the same request gets the same REJECT without a
 * record.
 */
export function recordableJson(payload: unknown, requestId: string): Recordable {
  const problem = identifierProblem(requestId)
  if (problem !== undefined) return { problem: `requestId ${problem}` }
  return canonicalText(payload)
}

/** A NUL escaped in canonical JSON: `\u0000` preceded by an even number of backslashes (none escaped). */
const ESCAPED_NUL = /(?:^|[^\\])(?:\\\\)*\\u0000/

/**
 * The payload's canonical JSON, or why it cannot be recorded faithfully: a string or member name anywhere
 * holds a lone UTF-16 surrogate (no UTF-8 form, so no stable digest or stored copy) or a NUL (which
 * PostgreSQL text cannot hold).
 */
function canonicalText(payload: unknown): Recordable {
  let canonical: string
  try {
    canonical = canonicalJson(payload)
  } catch (error) {
    if (error instanceof NotJson) return { problem: `${error.path} of the payload is ${error.what}` }
    throw error
  }
  return ESCAPED_NUL.test(canonical)
    ? { problem: 'a string in the payload contains a NUL character (U+0000)' }
    : { canonical }
}
