import { Environment } from '@marcbachmann/cel-js'
import type { RequestKind } from '../protocol/index.js'
import { Decimal } from './decimal.js'

/**
 * The typed CEL environments conditions are checked against when the policy loads, one per request kind.
 * Only pure, synchronous functions are registered (no clock, no I/O, no async), and structural limits
 * bound every expression, because the JS evaluator has no runtime cost budget.
 */
export const CEL_LIMITS = {
  maxAstNodes: 500,
  maxDepth: 32,
  maxListElements: 1000,
  maxMapEntries: 1000,
  maxCallArguments: 32,
} as const

export interface EnvironmentShape {
  readonly lists: readonly string[]
  /** Windows visible to this kind, with the metrics each declares. */
  readonly windows: ReadonlyMap<string, readonly ('sum_usd' | 'count')[]>
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

function baseEnvironment(): Environment {
  const env = new Environment({ limits: CEL_LIMITS })
    .registerType('Decimal', Decimal)
    .registerFunction('decimal(string): Decimal', decimalOf)
  for (const [operator, test] of Object.entries(COMPARISONS)) {
    env.registerOperator(`Decimal ${operator} Decimal`, (left: Decimal, right: Decimal) =>
      test(left.compare(right)),
    )
  }
  return env
}

function registerShared(env: Environment, shape: EnvironmentShape): void {
  env
    .registerVariable('kind', 'string')
    .registerVariable('signer_id', 'string')
    .registerVariable('request', 'map<string, dyn>')
    .registerVariable('now', 'google.protobuf.Timestamp')
    .registerVariable({
      name: 'time',
      schema: { hour: 'int', minute: 'int', weekday: 'int', date: 'string' },
    })
  if (shape.lists.length > 0) {
    env.registerVariable({
      name: 'lists',
      schema: Object.fromEntries(shape.lists.map((name) => [name, 'list<string>'])),
    })
  }
}

function registerTx(env: Environment, kind: RequestKind, shape: EnvironmentShape): void {
  env
    .registerVariable('operation', 'string')
    .registerVariable('asset', 'string')
    .registerVariable('amount', 'Decimal')
    .registerVariable('amount_usd', 'double')
    .registerVariable('note', 'string')
    .registerVariable('raw_tx', 'bool')
    .registerVariable({ name: 'source', schema: { type: 'string', id: 'string' } })
    .registerVariable({
      name: 'dest',
      schema: {
        type: 'string',
        id: 'string',
        address: 'string',
        address_type: 'string',
        whitelisted: 'bool',
        one_time: 'bool',
      },
    })
    .registerVariable('destinations', 'list<map<string, dyn>>')
  // The fee exists only in the signing stage; in the approval section reading it is a load error.
  if (kind === 'tx_signing') env.registerVariable('fee', 'Decimal')
  if (shape.windows.size > 0) {
    const windows = [...shape.windows].map(([id, metrics]) => [
      id,
      Object.fromEntries(metrics.map((metric) => [metric, metric === 'count' ? 'int' : 'double'])),
    ])
    env.registerVariable({ name: 'velocity', schema: Object.fromEntries(windows) })
  }
}

/** The environment a condition of `kind` is type-checked and evaluated in. */
export function celEnvironment(kind: RequestKind, shape: EnvironmentShape): Environment {
  const env = baseEnvironment()
  registerShared(env, shape)
  if (kind === 'config_change') {
    // `type` is a CEL built-in identifier, so the change type is `change_type` in conditions.
    env.registerVariable('change_type', 'string').registerVariable('extraInfo', 'map<string, dyn>')
  } else {
    registerTx(env, kind, shape)
  }
  return env
}
