import type { Action, RequestKind } from '../protocol/index.js'
import type { PolicyEnvironment } from './cel-environment.js'
import type { CelRecord } from './engine/cel-base.js'
import type { CompiledList, RuleShape } from './engine/first-match.js'
import type { Condition } from './engine/condition.js'
import type { VelocityWindow } from './velocity.js'

/** The compiled form of a policy file: everything evaluation needs, checked and resolved at load. */

export interface QuorumRequirement {
  readonly quorum: number
  readonly approvers: readonly string[]
  readonly ttlMs: number
}

export interface CompiledRule extends RuleShape {
  readonly action: Action
  readonly reason: string
  readonly require: QuorumRequirement | undefined
}

export interface CompiledGuard {
  readonly id: string
  readonly reason: string
  /** The guard's condition, type-checked separately in each kind it applies to. */
  readonly conditions: ReadonlyMap<RequestKind, Condition>
}

export interface PolicyProgram {
  readonly version: string
  readonly digest: string
  readonly timezone: string
  readonly defaults: Readonly<Record<RequestKind, Action>>
  readonly onError: Readonly<Record<RequestKind, Action>>
  readonly lists: ReadonlyMap<string, CompiledList>
  /** The `lists` value conditions see, built once. */
  readonly listsRecord: CelRecord
  /** Per kind: the CEL environment and the record classes of its per-policy variables. */
  readonly environments: Readonly<Record<RequestKind, PolicyEnvironment>>
  readonly windows: readonly VelocityWindow[]
  readonly guards: readonly CompiledGuard[]
  readonly sections: Readonly<Record<RequestKind, readonly CompiledRule[]>>
  /** Whether any condition reads `time.*`, so evaluation only pays for time-zone arithmetic when used. */
  readonly usesTime: boolean
}
