import { serialize, type ASTNode, type Environment, type ParseResult } from '@marcbachmann/cel-js'
import { linearMatches, type PatternCache } from './linear-regex.js'

/** A `when` condition, parsed and type-checked once at load, with what it reads (for traces and lints). */
export interface Condition {
  readonly source: string
  readonly run: ParseResult
  /** Context paths the expression reads, e.g. `dest.whitelisted`, `velocity.vault_24h.sum_usd`. */
  readonly reads: readonly { readonly path: string; readonly parts: readonly string[] }[]
  /** Named lists it reads (`lists.<name>`), checked for staleness before each evaluation. */
  readonly lists: readonly string[]
}

const COMPREHENSIONS = new Set(['all', 'exists', 'exists_one', 'map', 'filter'])

function isNode(value: unknown): value is ASTNode {
  return typeof value === 'object' && value !== null && 'op' in value
}

function children(node: ASTNode): ASTNode[] {
  const args: unknown = node.args
  // Unary operators (`!_`, `-_`) hold their operand directly; everything else holds an array.
  if (isNode(args)) return [args]
  if (!Array.isArray(args)) return []
  return (args.flat(2) as unknown[]).filter(isNode)
}

function pathOf(node: ASTNode): string | undefined {
  if (node.op === 'id') return node.args
  if (node.op !== '.') return undefined
  const base = pathOf(node.args[0])
  return base === undefined ? undefined : `${base}.${node.args[1]}`
}

function isComprehension(node: ASTNode): boolean {
  return node.op === 'rcall' && COMPREHENSIONS.has(node.args[0])
}

interface Reads {
  readonly paths: Set<string>
  nestedComprehension: boolean
}

function collect(node: ASTNode, env: Environment, reads: Reads, insideComprehension: boolean): void {
  const path = pathOf(node)
  if (path !== undefined) {
    // Macro-bound variables (`d` in `destinations.all(d, ...)`) are not context paths.
    if (env.hasVariable(path.split('.')[0]!)) reads.paths.add(path)
    return
  }
  const comprehension = isComprehension(node)
  if (comprehension && insideComprehension) reads.nestedComprehension = true
  for (const child of children(node)) collect(child, env, reads, insideComprehension || comprehension)
}

export type ConditionResult = { readonly condition: Condition } | { readonly error: string }

/**
 * Parses and type-checks `source` in `env`. A condition must be of type bool, and nested comprehensions
 * are refused: without a runtime cost budget their cost is the product of the list sizes. `matches()`
 * calls run in linear time (see linear-regex.ts); their patterns are compiled into `patterns` here.
 */
export function compileCondition(env: Environment, source: string, patterns: PatternCache): ConditionResult {
  let run: ParseResult
  try {
    run = env.parse(source)
    const linear = linearMatches(run.ast, patterns)
    if (linear.problems.length > 0) return { error: linear.problems.join('; ') }
    if (linear.rewritten) run = env.parse(serialize(linear.ast))
  } catch (error) {
    return { error: `does not parse: ${summaryOf(error)}` }
  }
  const checked = run.check()
  if (!checked.valid) return { error: `type error: ${summaryOf(checked.error)}` }
  if (checked.type !== 'bool') return { error: `must be a bool condition, but its type is ${checked.type}` }
  const reads: Reads = { paths: new Set(), nestedComprehension: false }
  collect(run.ast, env, reads, false)
  if (reads.nestedComprehension) {
    return { error: 'nested comprehensions (all/exists/map/filter inside another) are not allowed' }
  }
  const paths = [...reads.paths].sort().map((path) => ({ path, parts: path.split('.') }))
  const lists = paths.flatMap(({ parts }) =>
    parts[0] === 'lists' && parts[1] !== undefined ? [parts[1]] : [],
  )
  return { condition: { source, run, reads: paths, lists: [...new Set(lists)] } }
}

/** The one-line summary of a CEL error (its message also carries a multi-line source excerpt). */
export function summaryOf(error: unknown): string {
  if (error instanceof Error) {
    const summary = (error as Error & { summary?: unknown }).summary
    if (typeof summary === 'string' && summary.length > 0) return summary
    return error.message.split('\n')[0] ?? error.name
  }
  return String(error)
}
