import { readField } from './engine/first-match.js'
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
