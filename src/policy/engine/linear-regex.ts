import type { ASTNode, Environment } from '@marcbachmann/cel-js'
import { RE2JS } from 're2js'

/**
 * `matches()` in linear time. The CEL library evaluates `string.matches` with JavaScript's backtracking
 * `RegExp`: `note.matches('^(a+)+$')` on 31 `a`s and a `!` blocked the event loop (and every other
 * request) for 57 s, far past the co-signer's 30 s deadline. Refusing "dangerous" patterns at load would
 * need a heuristic that misses cases; evaluating with RE2 (the engine the CEL specification names) makes
 * every pattern linear in the input by construction. So conditions are rewritten at load to call
 * `re2_matches`, backed by `re2js` (a pure-JS RE2 port), and each pattern is compiled at load: syntax RE2
 * does not support (backreferences, lookaround) is a load error on the condition's line.
 */
export const LINEAR_MATCHES = 're2_matches'
const CEL_MATCHES = 'matches'

/** The compiled patterns of one environment, filled at load (patterns are literals, so this is bounded). */
export type PatternCache = Map<string, RE2JS>

/**
 * Registers `re2_matches` in both call forms of CEL's `matches` (`s.matches(p)`, `matches(s, p)`): a
 * partial match, as CEL's is.
 */
export function registerLinearMatches(env: Environment, patterns: PatternCache): void {
  const test = (text: string, pattern: string): boolean => {
    let regex = patterns.get(pattern)
    if (regex === undefined) {
      regex = RE2JS.compile(pattern)
      patterns.set(pattern, regex)
    }
    return regex.test(text)
  }
  env
    .registerFunction(`string.${LINEAR_MATCHES}(string): bool`, test)
    .registerFunction(`${LINEAR_MATCHES}(string, string): bool`, test)
}

function isMatchesCall(node: ASTNode): boolean {
  return (node.op === 'rcall' || node.op === 'call') && node.args[0] === CEL_MATCHES
}

/** The pattern argument of a `matches` call: `s.matches(p)` or `matches(s, p)`. */
function patternNode(node: ASTNode): ASTNode | undefined {
  const [, ...rest] = node.args as unknown as [string, ...unknown[]]
  // rcall: [name, receiver, [pattern]]; call: [name, [text, pattern]].
  return node.op === 'rcall' ? (rest[1] as ASTNode[])[0] : (rest[0] as ASTNode[])[1]
}

function patternProblem(node: ASTNode, patterns: PatternCache): string | undefined {
  const pattern = patternNode(node)
  if (pattern?.op !== 'value' || typeof pattern.args !== 'string') {
    return 'matches() takes its pattern as a string literal, so that it is checked when the policy loads'
  }
  try {
    patterns.set(pattern.args, RE2JS.compile(pattern.args))
    return undefined
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error)
    return `matches() pattern "${pattern.args.slice(0, 60)}" is not supported (${detail}); patterns use RE2 syntax, without backreferences or lookaround`
  }
}

/**
 * A copy of `node` with every `matches` call renamed to the linear-time function, and every problem of
 * their patterns. Returns the node itself when it holds no `matches` call.
 */
export function linearMatches(
  node: ASTNode,
  patterns: PatternCache,
): { readonly ast: ASTNode; readonly problems: readonly string[]; readonly rewritten: boolean } {
  const problems: string[] = []
  let rewritten = false
  const visit = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(visit)
    if (typeof value !== 'object' || value === null || !('op' in value)) return value
    const current = value as ASTNode
    const args = visit(current.args) as ASTNode['args']
    if (!isMatchesCall(current)) return { ...current, args }
    rewritten = true
    const problem = patternProblem(current, patterns)
    if (problem !== undefined) problems.push(problem)
    return { ...current, args: [LINEAR_MATCHES, ...(args as unknown[]).slice(1)] }
  }
  const ast = visit(node) as ASTNode
  return { ast: rewritten ? ast : node, problems, rewritten }
}
