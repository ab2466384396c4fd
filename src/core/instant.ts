import { isDuration, parseDuration } from './duration.js'
import { InstantInvalid } from './errors.js'

/**
 * ISO 8601 only: a date (`2026-05-01`, midnight UTC) or a date and time with a zone (`Z` or `+02:00`).
 * `Date.parse` alone would also take `May 1 2026` or a zone-less time read in the machine's local zone, so
 * the same text could name different instants on two machines.
 */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/

const ISO_FORM = 'an ISO 8601 instant: write e.g. 2026-05-01T12:00:00Z or 2026-05-01'

/**
 * The instant an ISO 8601 text names; throws `InstantInvalid` naming the text, the option or key it came
 * from (`label`, e.g. `--now`) and the accepted form.
 */
export function parseInstant(text: string, label?: string): Date {
  const at = ISO_8601.test(text) ? Date.parse(text) : Number.NaN
  if (Number.isNaN(at)) throw new InstantInvalid(text, ISO_FORM, label)
  return new Date(at)
}

/**
 * A "since" value: an ISO 8601 instant, or a duration back from `now` (`7d`, `12h`, `30m`).
 * Milliseconds since the epoch.
 */
export function parseSince(text: string, now: number, label?: string): number {
  if (isDuration(text)) return now - parseDuration(text)
  if (ISO_8601.test(text)) return parseInstant(text, label).getTime()
  throw new InstantInvalid(text, `${ISO_FORM}, or a duration back from now such as 7d, 12h or 30m`, label)
}
