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
