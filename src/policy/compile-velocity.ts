import type { Diagnostics } from './engine/diagnostics.js'
import { parseDuration } from '../core/index.js'
import type { VelocityWindowSpec } from './policy-schema.js'
import { TX_FIELDS } from './request-context.js'
import type { VelocityWindow } from './velocity.js'

/** Lookups sum every bucket in the window: bound the work per probe. */
export const MAX_BUCKETS_PER_WINDOW = 10_000
const MIN_BUCKET_MS = 1_000
const DEFAULT_BUCKETS = 288

/** A window as an instance declares it; `kinds` only where the instance has request kinds (the callback policy). */
export type WindowSpec = Omit<VelocityWindowSpec, 'kinds'> & { readonly kinds?: readonly string[] }

/**
 * Resolves `velocity:` windows: durations, the default bucket (window/288, at least 1s), and `group_by`
 * fields from the instance's vocabulary (`fields`; the callback policy's transaction fields by default).
 */
export function compileWindows(
  specs: readonly WindowSpec[],
  diagnostics: Diagnostics,
  fields: readonly string[] = TX_FIELDS,
): VelocityWindow[] {
  const windows: VelocityWindow[] = []
  const seen = new Set<string>()
  specs.forEach((spec, index) => {
    const at = ['velocity', index]
    if (seen.has(spec.id)) diagnostics.error([...at, 'id'], `velocity window "${spec.id}" is declared twice`)
    seen.add(spec.id)
    const windowMs = parseDuration(spec.window)
    const bucketMs =
      spec.bucket === undefined
        ? Math.max(MIN_BUCKET_MS, Math.floor(windowMs / DEFAULT_BUCKETS))
        : parseDuration(spec.bucket)
    if (bucketMs > windowMs) diagnostics.error([...at, 'bucket'], 'bucket must not be longer than the window')
    if (windowMs / bucketMs > MAX_BUCKETS_PER_WINDOW) {
      diagnostics.error(
        [...at, 'bucket'],
        `more than ${MAX_BUCKETS_PER_WINDOW} buckets per window; use a coarser bucket`,
      )
    }
    spec.group_by.forEach((field, fieldIndex) => {
      if (!fields.includes(field)) {
        diagnostics.error(
          [...at, 'group_by', fieldIndex],
          `unknown field "${field}" (known: ${fields.join(', ')})`,
        )
      }
    })
    windows.push({
      id: spec.id,
      windowMs,
      bucketMs,
      groupBy: spec.group_by,
      groupByParts: spec.group_by.map((field) => field.split('.')),
      metrics: [...new Set(spec.metrics)],
      kinds: [...new Set(spec.kinds ?? [])],
    })
  })
  return windows
}
