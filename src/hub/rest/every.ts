import type { Clock } from '../../core/index.js'

/** True at most once per `intervalMs` (the first call included): spaces out housekeeping done in passing. */
export function every(intervalMs: number, clock: Clock): () => boolean {
  let nextMs = 0
  return () => {
    const now = clock.now()
    if (now < nextMs) return false
    nextMs = now + intervalMs
    return true
  }
}
