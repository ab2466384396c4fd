/**
 * The base of every error Countersign raises on purpose. Each module declares its own closed set of stable
 * codes with `defineErrorCodes` (no central union that every module must edit); callers switch on `code`
 * and never parse messages. A retired code is never reused. `docs/errors.md` catalogues every code; a test
 * keeps it in sync with the catalogues the modules export.
 */
export abstract class CountersignError extends Error {
  abstract readonly code: string

  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
  }
}

/** What a code means and how to fix it: one line each, as `docs/errors.md` prints them. */
export interface ErrorCodeInfo {
  readonly meaning: string
  readonly fix: string
}

/** A module's catalogue of codes: its name and, per code, what it means and how to fix it. */
export interface ErrorCatalogue<Code extends string = string> {
  readonly module: string
  readonly codes: { readonly [C in Code]: ErrorCodeInfo }
}

/**
 * Declares a module's codes. Every code starts with `CS_` and is written in capitals, so codes from two
 * modules cannot be mistaken for anything else; the catalogue test refuses a code declared twice.
 *
 * ```ts
 * export const STORE_ERRORS = defineErrorCodes('storage', {
 *   CS_STORE_UNAVAILABLE: { meaning: 'the database cannot be reached', fix: 'check the store URL ...' },
 * })
 * export type StoreErrorCode = keyof typeof STORE_ERRORS.codes
 * ```
 */
export function defineErrorCodes<const Code extends string>(
  module: string,
  codes: { readonly [C in Code]: ErrorCodeInfo },
): ErrorCatalogue<Code> {
  for (const code of Object.keys(codes)) {
    if (!/^CS_[A-Z0-9_]+$/.test(code))
      throw new TypeError(`error code ${code} of ${module} must match CS_[A-Z0-9_]+`)
  }
  return Object.freeze({ module, codes: Object.freeze(codes) })
}

/** The codes of core's own parsers and canonical JSON. */
export const CORE_ERRORS = defineErrorCodes('core', {
  CS_DURATION_INVALID: {
    meaning: 'a duration is not a whole number followed by one unit',
    fix: 'write a duration like 500ms, 30s, 5m, 24h or 7d (one unit: 90m, not 1h30m)',
  },
  CS_INSTANT_INVALID: {
    meaning: 'an instant is not an ISO 8601 date/time (or, where allowed, a duration back from now)',
    fix: 'write e.g. 2026-05-01T12:00:00Z, 2026-05-01, or a duration such as 7d where the option accepts one',
  },
  CS_SIZE_INVALID: {
    meaning: 'a size is not a positive whole number of bytes, KiB or MiB',
    fix: 'write a size like 1048576, 512KiB or 1MiB',
  },
  CS_NOT_JSON: {
    meaning:
      'a value to be written as canonical JSON is not JSON data (Date, Map, Set, undefined, function, BigInt, NaN, Infinity, class instance, cycle)',
    fix: 'convert the value to plain JSON data (strings, finite numbers, booleans, null, arrays, plain objects) before hashing or signing it',
  },
})
export type CoreErrorCode = keyof typeof CORE_ERRORS.codes

/** `--since "x"` or `"x"`: how a parser's message names the value, with the option or key it came from. */
function quoted(text: string, label: string | undefined): string {
  return label === undefined ? `"${text}"` : `${label} "${text}"`
}

/** A duration that is not a whole number and one unit; `text` is the value as given. */
export class DurationInvalid extends CountersignError {
  readonly code = 'CS_DURATION_INVALID' satisfies CoreErrorCode
  readonly text: string

  constructor(text: string, label?: string) {
    super(
      `${quoted(text, label)} is not a duration: write a whole number and one unit, e.g. 500ms, 30s, 5m, 24h or 7d`,
    )
    this.text = text
  }
}

/** An instant that is not ISO 8601; `text` is the value as given. */
export class InstantInvalid extends CountersignError {
  readonly code = 'CS_INSTANT_INVALID' satisfies CoreErrorCode
  readonly text: string

  constructor(text: string, accepted: string, label?: string) {
    super(`${quoted(text, label)} is not ${accepted}`)
    this.text = text
  }
}

/** A size that is not a positive whole number of bytes, KiB or MiB; `text` is the value as given. */
export class SizeInvalid extends CountersignError {
  readonly code = 'CS_SIZE_INVALID' satisfies CoreErrorCode
  readonly text: string

  constructor(text: string, label?: string) {
    super(
      `${quoted(text, label)} is not a size: write a positive whole number of bytes, KiB or MiB, e.g. 1048576, 512KiB or 1MiB`,
    )
    this.text = text
  }
}

/** A value handed to canonical JSON that is not JSON data; `path` names where (`$.a.b[2]`). */
export class NotJson extends CountersignError {
  readonly code = 'CS_NOT_JSON' satisfies CoreErrorCode
  readonly path: string
  /** What was found there instead of JSON data (`an instance of Date`, `NaN`, ...). */
  readonly what: string

  constructor(path: string, what: string) {
    super(`${path} is ${what}, which is not JSON data; convert it to plain JSON before hashing or signing it`)
    this.path = path
    this.what = what
  }
}
