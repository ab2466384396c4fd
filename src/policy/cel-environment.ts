import type { Environment } from '@marcbachmann/cel-js'
import type { RequestKind } from '../protocol/index.js'
import { baseEnvironment, CelRecord } from './engine/cel-base.js'
import type { PatternCache } from './engine/linear-regex.js'

/** The callback policy's typed CEL environments, one per request kind, built on the engine's base. */

export class SourceRecord extends CelRecord {}
export class DestRecord extends CelRecord {}
export class TimeRecord extends CelRecord {}

export interface EnvironmentShape {
  readonly lists: readonly string[]
  /** Windows visible to this kind, with the metrics each declares. */
  readonly windows: ReadonlyMap<string, readonly ('sum_usd' | 'count')[]>
}

/** An environment and the record classes its per-policy variables must be built with. */
export interface PolicyEnvironment {
  readonly env: Environment
  readonly shape: EnvironmentShape
  readonly Lists: typeof CelRecord
  readonly Velocity: typeof CelRecord
  /** One figures class per window, typed with the metrics that window declares. */
  readonly Figures: ReadonlyMap<string, typeof CelRecord>
  /** The `matches()` patterns of this environment's conditions, compiled at load. */
  readonly patterns: PatternCache
}

function registerShared(env: Environment, shape: EnvironmentShape, Lists: typeof CelRecord): void {
  env
    .registerType('Time', {
      ctor: TimeRecord,
      fields: { hour: 'int', minute: 'int', weekday: 'int', date: 'string' },
    })
    .registerType('Lists', {
      ctor: Lists,
      fields: Object.fromEntries(shape.lists.map((name) => [name, 'list<string>'])),
    })
    .registerVariable('kind', 'string')
    .registerVariable('signer_id', 'string')
    .registerVariable('request', 'map<string, dyn>')
    .registerVariable('now', 'google.protobuf.Timestamp')
    .registerVariable('time', 'Time')
    .registerVariable('lists', 'Lists')
}

/**
 * Declares `velocity.<window>.<metric>` on `env` (shared by both instances): one figures type per window,
 * typed with the metrics it declares. Returns the figures class of each window.
 */
export function registerVelocity(
  env: Environment,
  shape: Pick<EnvironmentShape, 'windows'>,
  Velocity: typeof CelRecord,
): Map<string, typeof CelRecord> {
  const figures = new Map<string, typeof CelRecord>()
  for (const [id, metrics] of shape.windows) {
    const Figures = class FiguresRecord extends CelRecord {}
    env.registerType(`Velocity_${id}`, {
      ctor: Figures,
      fields: Object.fromEntries(metrics.map((metric) => [metric, metric === 'count' ? 'int' : 'double'])),
    })
    figures.set(id, Figures)
  }
  env.registerType('Velocity', {
    ctor: Velocity,
    fields: Object.fromEntries([...shape.windows.keys()].map((id) => [id, `Velocity_${id}`])),
  })
  env.registerVariable('velocity', 'Velocity')
  return figures
}

function registerTx(env: Environment, kind: RequestKind): void {
  env
    .registerType('Source', { ctor: SourceRecord, fields: { type: 'string', id: 'string' } })
    .registerType('Dest', {
      ctor: DestRecord,
      fields: {
        type: 'string',
        id: 'string',
        address: 'string',
        address_type: 'string',
        whitelisted: 'bool',
        one_time: 'bool',
      },
    })
    .registerVariable('operation', 'string')
    .registerVariable('asset', 'string')
    .registerVariable('amount', 'Decimal')
    .registerVariable('amount_usd', 'double')
    .registerVariable('note', 'string')
    .registerVariable('raw_tx', 'bool')
    .registerVariable('source', 'Source')
    .registerVariable('dest', 'Dest')
    .registerVariable('destinations', 'list<map<string, dyn>>')
  // The fee exists only in the signing stage; in the approval section reading it is a load error.
  if (kind === 'tx_signing') env.registerVariable('fee', 'Decimal')
}

/**
 * The environment a condition of `kind` is type-checked and evaluated in. Velocity figures are typed per
 * metric: a metric a window does not declare is a load error. A window that does not count `kind` is not
 * visible to it at all.
 */
export function celEnvironment(
  kind: RequestKind,
  shape: EnvironmentShape,
  Lists: typeof CelRecord,
): PolicyEnvironment {
  const patterns: PatternCache = new Map()
  const env = baseEnvironment(patterns)
  const Velocity = class VelocityRecord extends CelRecord {}
  registerShared(env, shape, Lists)
  if (kind === 'config_change') {
    // `type` is a CEL built-in identifier, so the change type is `change_type` in conditions.
    env.registerVariable('change_type', 'string').registerVariable('extraInfo', 'map<string, dyn>')
    return { env, shape, Lists, Velocity, Figures: new Map(), patterns }
  }
  registerTx(env, kind)
  return { env, shape, Lists, Velocity, Figures: registerVelocity(env, shape, Velocity), patterns }
}
