import type { Action, RequestKind } from '../protocol/index.js'

/**
 * The explanation recorded with every decision. Plain JSON (no BigInt, no Date), so the store keeps it
 * as is and `policy explain` prints it.
 */
export type TraceValue =
  string | number | boolean | null | readonly TraceValue[] | { readonly [key: string]: TraceValue }

export interface VelocityTrace {
  readonly window: string
  readonly group: string
  /** Figures before this request. */
  readonly sum_usd: number
  readonly count: number
  /** What an APPROVE of this request adds. */
  readonly adds_usd: number
}

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
