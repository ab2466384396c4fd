import { EvaluationFailure, readField } from './engine/first-match.js'
import type { RequestFacts } from './request-context.js'

/** One (window, group) bucket series the request falls in, and what an APPROVE of it adds there. */
export interface VelocityProbe {
  readonly windowId: string
  /** Stable string from the group_by values, e.g. `source.id=0|asset=ETH`; `*` for an ungrouped window. */
  readonly groupKey: string
  readonly windowMs: number
  /** Bucket granularity; the store sums the buckets inside the window (O(buckets)). */
  readonly bucketMs: number
  /** Integer cents this request adds if approved. */
  readonly amountUsdCents: number
}

export interface VelocityFigures {
  readonly sumUsdCents: number
  readonly count: number
}

/**
 * Figures BEFORE this request, keyed by `velocityKey(windowId, groupKey)`. The store must supply an
 * entry for every probe (zero figures for an empty series): a missing entry fails the decision closed,
 * so a store fault can never read as an empty history.
 */
export type VelocitySnapshot = ReadonlyMap<string, VelocityFigures>

export function velocityKey(windowId: string, groupKey: string): string {
  return `${windowId}\u0000${groupKey}`
}

/** A compiled `velocity:` entry. */
export interface VelocityWindow {
  readonly id: string
  readonly windowMs: number
  readonly bucketMs: number
  readonly groupBy: readonly string[]
  /** `groupBy` split into path parts once, at load. */
  readonly groupByParts: readonly (readonly string[])[]
  readonly metrics: readonly ('sum_usd' | 'count')[]
  readonly kinds: readonly string[]
}

export const UNGROUPED = '*'

/**
 * The group key of `facts` in `window`, or the first group_by field the request lacks. Values are
 * URI-encoded so that a value containing `|` or `=` cannot collide with another group.
 */
export function groupKey(
  window: VelocityWindow,
  facts: RequestFacts,
): { readonly key: string } | { readonly missing: string } {
  if (window.groupBy.length === 0) return { key: UNGROUPED }
  const parts: string[] = []
  window.groupBy.forEach((field, index) => {
    const value = readField(facts, window.groupByParts[index]!)
    parts.push(value === undefined ? '' : `${field}=${encodeURIComponent(value)}`)
  })
  const missing = window.groupBy.find((_field, index) => parts[index] === '')
  if (missing !== undefined) return { missing }
  return { key: parts.join('|') }
}

/** The probe of `window` for `facts`, or `undefined` when the request lacks a `group_by` field. */
export function probeOf(
  window: VelocityWindow,
  facts: RequestFacts,
  amountUsdCents: number,
): VelocityProbe | undefined {
  const group = groupKey(window, facts)
  if ('missing' in group) return undefined
  return {
    windowId: window.id,
    groupKey: group.key,
    windowMs: window.windowMs,
    bucketMs: window.bucketMs,
    amountUsdCents,
  }
}

/**
 * The figures of `window`'s series for `facts` from `snapshot`. Throws `EvaluationFailure` (the instance
 * fails closed) when the request lacks a `group_by` field or the snapshot has no valid entry for it.
 */
export function windowFigures(
  window: VelocityWindow,
  facts: RequestFacts,
  snapshot: VelocitySnapshot,
): { readonly group: string; readonly figures: VelocityFigures } {
  const group = groupKey(window, facts)
  if ('missing' in group) {
    throw new EvaluationFailure(
      `velocity.${window.id}`,
      `window groups by ${group.missing}, which this request does not carry`,
    )
  }
  const entry = snapshot.get(velocityKey(window.id, group.key))
  if (
    entry === undefined ||
    !Number.isSafeInteger(entry.sumUsdCents) ||
    !Number.isSafeInteger(entry.count) ||
    entry.sumUsdCents < 0 ||
    entry.count < 0
  ) {
    throw new EvaluationFailure(`velocity.${window.id}`, `no valid velocity figures for group ${group.key}`)
  }
  return { group: group.key, figures: entry }
}
