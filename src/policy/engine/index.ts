/**
 * The generic policy engine every instance is built on: YAML source with line-numbered diagnostics, the
 * CEL base environment and its limits, conditions with linear-time `matches()`, address normalization,
 * lists, match maps, first-match rule lists, their lint and their trace.
 */
export { normalizeAddress } from './address.js'
export { baseEnvironment, CelRecord } from './cel-base.js'
export { compileLists } from './compile-lists.js'
export type { ListFileReader } from './compile-lists.js'
export { checkUniqueIds, compileMatch, compileWhen } from './compile-rules.js'
export { summaryOf } from './condition.js'
export { Decimal } from './decimal.js'
export type { Diagnostics, Path, PolicyDiagnostic } from './diagnostics.js'
export { ConditionRunner, EvaluationFailure } from './first-match.js'
export type { CompiledList, ConditionTrace, RuleShape } from './first-match.js'
export type { PatternCache } from './linear-regex.js'
export { shadowedRules } from './lint-rules.js'
export { readPolicySource } from './policy-source.js'
export { CelName, Condition as ConditionSchema, Identifier, ListSchema } from './schema-parts.js'
