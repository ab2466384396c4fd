/** How long to wait between attempts: exponential, capped, with full jitter so parties do not retry in step. */
export interface Backoff {
  readonly baseMs: number
  readonly maxMs: number
}

export const DEFAULT_BACKOFF: Backoff = { baseMs: 250, maxMs: 30_000 }

/** The wait before retry number `attempt` (0 for the first retry): uniform in [0, min(max, base · 2^attempt)). */
export function backoffDelay(attempt: number, backoff: Backoff, random: () => number = Math.random): number {
  const ceiling = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.min(attempt, 30))
  return Math.floor(random() * ceiling)
}
