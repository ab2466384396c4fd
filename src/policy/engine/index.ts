/**
 * The generic policy engine every instance is built on: YAML source with line-numbered diagnostics, the
 * CEL base environment and its limits, conditions with linear-time `matches()`, address normalization,
 * lists, match maps, first-match rule lists and their trace.
 */
export { normalizeAddress } from './address.js'
export { baseEnvironment, CEL_LIMITS, CelRecord } from './cel-base.js'
export { compileLists } from './compile-lists.js'
export type { ListFileReader } from './compile-lists.js'
export { checkUniqueIds, compileMatch, compileWhen } from './compile-rules.js'
export { summaryOf } from './condition.js'
export type { Condition } from './condition.js'
export { Decimal } from './decimal.js'
export { Diagnostics, formatPath } from './diagnostics.js'
export type { Path, PolicyDiagnostic } from './diagnostics.js'
export { ConditionRunner, EvaluationFailure, readField, readValue, traceValue } from './first-match.js'
export type { CompiledList, ConditionTrace, MatchClause, RuleShape, TraceValue } from './first-match.js'
export { shadowedRules } from './lint-rules.js'
export type { PatternCache } from './linear-regex.js'
export { readPolicySource } from './policy-source.js'
export type { PolicySource } from './policy-source.js'
export { CelName, Condition as ConditionSchema, Duration, Identifier, ListSchema } from './schema-parts.js'
export type { ListSpec } from './schema-parts.js'
