/** In `u` mode a surrogate pair is one code point, so `\p{Cs}` matches only a lone (unpaired) surrogate. */
const LONE_SURROGATE = /\p{Cs}/u

/**
 * Whether `text` is well-formed Unicode: no lone UTF-16 surrogate. A lone surrogate has no UTF-8 encoding,
 * so databases, hashes and JSON encoders each store or replace it differently.
 */
export function isWellFormedText(text: string): boolean {
  return !LONE_SURROGATE.test(text)
}
