import type { Condition } from './condition.js'
import { summaryOf } from './condition.js'
import { Decimal } from './decimal.js'

/**
 * The engine's evaluation core, shared by every policy instance: `match` maps, CEL conditions that fail
 * closed (an error is never "no match"), first-match rule lists and their trace.
 */

/** A `match` entry: the field (pre-split into parts) and the values it may take. */
export interface MatchClause {
  readonly field: string
  readonly parts: readonly string[]
  readonly values: ReadonlySet<string>
}

/** What first-match needs of a rule; instances add their action and its parameters. */
export interface RuleShape {
  readonly id: string
  readonly match: readonly MatchClause[]
  readonly when: Condition | undefined
}

/** A named list, as conditions read it (`lists.<name>`). */
export interface CompiledList {
  readonly values: readonly string[]
  /** Modification time of the list file, when it came from one. */
  readonly loadedAtMs: number | undefined
  readonly maxAgeMs: number | undefined
}

/** Plain JSON, so stores keep traces as they are and `policy explain` prints them. */
export type TraceValue =
  string | number | boolean | null | readonly TraceValue[] | { readonly [key: string]: TraceValue }

export interface ConditionTrace {
  readonly id: string
  /** Guards: hit; rules: matched (match map and condition). */
  readonly result: boolean
  /** For a rule whose `match` failed: the first field that did not match, its value and the allowed values. */
  readonly mismatch?: { readonly field: string; readonly value: string; readonly allowed: readonly string[] }
  /** The condition source and the values it read, for rules that reached their `when`. */
  readonly when?: string
  readonly values?: { readonly [path: string]: TraceValue }
}

/** An error inside evaluation: where it happened and its one-line summary. The instance fails closed on it. */
export class EvaluationFailure extends Error {
  readonly at: string

  constructor(at: string, message: string) {
    super(message)
    this.at = at
  }
}

/** The value at a dotted path (pre-split into parts), or `undefined` when absent. */
export function readValue(facts: Record<string, unknown>, parts: readonly string[]): unknown {
  let value: unknown = facts
  for (const part of parts) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, part)) return undefined
    value = (value as Record<string, unknown>)[part]
  }
  return value
}

/** The string value of a field, or `undefined` when the request does not carry it. */
export function readField(facts: Record<string, unknown>, parts: readonly string[]): string | undefined {
  const value = readValue(facts, parts)
  return typeof value === 'string' ? value : undefined
}

const LIST_PREVIEW = 10

/** Context values in trace form: no BigInt, no Date, no big lists or whole payloads. */
export function traceValue(value: unknown, depth = 0): TraceValue {
  if (value === undefined) return '<absent>'
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value
  if (typeof value === 'number') return value
  if (typeof value === 'bigint') return Number(value)
  if (value instanceof Decimal) return value.toString()
  if (value instanceof Date) return value.toISOString()
  if (Array.isArray(value)) {
    if (value.length > LIST_PREVIEW || depth > 1) return `[list of ${value.length}]`
    return value.map((item) => traceValue(item, depth + 1))
  }
  if (typeof value === 'object' && depth <= 1) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, traceValue(item, depth + 1)]))
  }
  return '{…}'
}

/** Runs conditions and match maps over one request's context. */
export class ConditionRunner {
  /** What CEL sees: the request's facts plus `now`, `lists` and the instance's extras. */
  readonly context: Record<string, unknown>
  /** What `match` maps read. */
  readonly facts: Record<string, unknown>
  readonly lists: ReadonlyMap<string, CompiledList>
  readonly nowMs: number

  constructor(
    context: Record<string, unknown>,
    facts: Record<string, unknown>,
    lists: ReadonlyMap<string, CompiledList>,
    nowMs: number,
  ) {
    this.context = context
    this.facts = facts
    this.lists = lists
    this.nowMs = nowMs
  }

  /** Evaluates a condition to a boolean; anything else, or a stale list, is an evaluation failure. */
  test(
    condition: Condition,
    at: string,
  ): { readonly result: boolean; readonly values: Record<string, TraceValue> } {
    for (const name of condition.lists) {
      const list = this.lists.get(name)
      if (list?.maxAgeMs !== undefined && this.nowMs - list.loadedAtMs! > list.maxAgeMs) {
        throw new EvaluationFailure(at, `list ${name} is older than its max_age`)
      }
    }
    let result: unknown
    try {
      result = condition.run(this.context)
    } catch (error) {
      throw new EvaluationFailure(at, summaryOf(error))
    }
    if (typeof result !== 'boolean') throw new EvaluationFailure(at, 'condition did not produce a bool')
    const values: Record<string, TraceValue> = {}
    for (const { path, parts } of condition.reads) {
      const value = readValue(this.context, parts)
      // Lists are policy data, not request values: their size is enough in a trace.
      values[path] =
        parts[0] === 'lists' && Array.isArray(value) ? `[list of ${value.length}]` : traceValue(value)
    }
    return { result, values }
  }

  /** `undefined` when the rule's match map holds; otherwise the first field that does not. */
  mismatch(rule: RuleShape, at: string): ConditionTrace['mismatch'] {
    for (const clause of rule.match) {
      const value = readField(this.facts, clause.parts)
      // A field the request lacks is an error, not a non-match: a REJECT rule must not be skipped by omission.
      if (value === undefined)
        throw new EvaluationFailure(at, `match field ${clause.field} is absent from the request`)
      if (!clause.values.has(value)) return { field: clause.field, value, allowed: [...clause.values] }
    }
    return undefined
  }

  /**
   * The first rule whose match map holds and whose condition is true, or `undefined`. Every rule tried is
   * appended to `trace`. Throws `EvaluationFailure` on any error: the caller fails closed.
   */
  firstMatch<R extends RuleShape>(rules: readonly R[], trace: ConditionTrace[]): R | undefined {
    for (const rule of rules) {
      const at = `rule ${rule.id}`
      const mismatch = this.mismatch(rule, at)
      if (mismatch !== undefined) {
        trace.push({ id: rule.id, result: false, mismatch })
        continue
      }
      if (rule.when === undefined) {
        trace.push({ id: rule.id, result: true })
        return rule
      }
      const { result, values } = this.test(rule.when, at)
      trace.push({ id: rule.id, result, when: rule.when.source, values })
      if (result) return rule
    }
    return undefined
  }
}
