import { Environment } from '@marcbachmann/cel-js'
import { Decimal } from './decimal.js'
import { registerLinearMatches, type PatternCache } from './linear-regex.js'

/**
 * What every policy instance's CEL environment starts from. Only pure, synchronous functions are
 * registered (no clock, no I/O, no async), and structural limits bound every expression, because the JS
 * evaluator has no runtime cost budget.
 */
export const CEL_LIMITS = {
  maxAstNodes: 500,
  maxDepth: 32,
  maxListElements: 1000,
  maxMapEntries: 1000,
  maxCallArguments: 32,
} as const

/**
 * Records (an instance's source, dest, time, velocity, lists) are instances of registered classes: CEL
 * reads their declared fields directly, where a schema-declared plain object would be converted on every
 * evaluation (about 10x slower per access).
 */
export class CelRecord {
  constructor(values: Record<string, unknown>) {
    Object.assign(this, values)
  }
}

const COMPARISONS = {
  '<': (order: number) => order < 0,
  '<=': (order: number) => order <= 0,
  '>': (order: number) => order > 0,
  '>=': (order: number) => order >= 0,
  // Registering `==` also gives `!=`.
  '==': (order: number) => order === 0,
} as const

function decimalOf(text: string): Decimal {
  const value = Decimal.parse(text)
  if (value === undefined) throw new Error(`decimal(): "${text.slice(0, 40)}" is not a non-negative decimal`)
  return value
}

/**
 * A fresh environment with the limits, exact decimals (`decimal('1.5') < amount`) and linear-time
 * `matches()`; its compiled patterns go to `patterns`. Instances declare their variables on it.
 */
export function baseEnvironment(patterns: PatternCache): Environment {
  const env = new Environment({ limits: CEL_LIMITS })
    .registerType('Decimal', Decimal)
    .registerFunction('decimal(string): Decimal', decimalOf)
  for (const [operator, test] of Object.entries(COMPARISONS)) {
    env.registerOperator(`Decimal ${operator} Decimal`, (left: Decimal, right: Decimal) =>
      test(left.compare(right)),
    )
  }
  registerLinearMatches(env, patterns)
  return env
}
