import type { Action, RequestKind } from '../protocol/index.js'

import type { ConditionTrace } from './engine/first-match.js'

export type { ConditionTrace, TraceValue } from './engine/first-match.js'

/** The explanation recorded with every callback decision: plain JSON (no BigInt, no Date). */
export interface VelocityTrace {
  readonly window: string
  readonly group: string
  /** Figures before this request. */
  readonly sum_usd: number
  readonly count: number
  /** What an APPROVE of this request adds. */
  readonly adds_usd: number
}

export interface DecisionTrace {
  readonly policy: { readonly version: string; readonly digest: string }
  readonly kind: RequestKind
  readonly requestId: string
  readonly now: string
  readonly velocity: readonly VelocityTrace[]
  readonly guards: readonly ConditionTrace[]
  readonly rules: readonly ConditionTrace[]
  readonly decided_by: 'guard' | 'rule' | 'default' | 'error'
  readonly action: Action
  /** Present when evaluation failed: where, and the error's one-line summary. */
  readonly error?: { readonly at: string; readonly message: string }
}
