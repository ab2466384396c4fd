import type { Environment } from '@marcbachmann/cel-js'
import { normalizeAddress } from './address.js'
import { compileCondition, type Condition } from './condition.js'
import { formatPath, type Diagnostics, type Path } from './diagnostics.js'
import type { MatchClause } from './first-match.js'
import type { PatternCache } from './linear-regex.js'

/** How rule parts are compiled in every instance: `match` maps, `when` conditions, unique ids. */

/** A `match` map: every field must be one the instance knows for this section. */
export function compileMatch(
  match: Readonly<Record<string, string | readonly string[]>> | undefined,
  isKnownField: (field: string) => boolean,
  at: Path,
  diagnostics: Diagnostics,
  section: string,
): MatchClause[] {
  return Object.entries(match ?? {}).map(([field, values]) => {
    if (!isKnownField(field)) {
      diagnostics.error([...at, 'match', field], `unknown match field "${field}" for ${section}`)
    }
    const written = typeof values === 'string' ? [values] : values
    // Request addresses are normalized (address.ts), so the values they are compared with must be too.
    return { field, parts: field.split('.'), values: new Set(written.map(normalizeAddress)) }
  })
}

/** A `when` condition, or `undefined` with the problem reported at `at` (plus the instance's hint). */
export function compileWhen(
  env: Environment,
  patterns: PatternCache,
  source: string,
  at: Path,
  diagnostics: Diagnostics,
  hint: (error: string) => string = () => '',
): Condition | undefined {
  const result = compileCondition(env, source, patterns)
  if ('error' in result) {
    diagnostics.error(at, `${result.error}${hint(result.error)}`)
    return undefined
  }
  return result.condition
}

/** Ids name decisions in traces and coverage: each may be used once in the whole file. */
export function checkUniqueIds(
  entries: readonly (readonly [Path, string])[],
  diagnostics: Diagnostics,
): void {
  const seen = new Map<string, string>()
  for (const [path, id] of entries) {
    const first = seen.get(id)
    if (first !== undefined) diagnostics.error(path, `id "${id}" is already used at ${first}`)
    else seen.set(id, formatPath(path))
  }
}
