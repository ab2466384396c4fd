import type { StorageHealth } from './types.js'

const FIRST_BACKOFF_MS = 100
const MAX_BACKOFF_MS = 5_000

/**
 * Whether the database is reachable, and when to try again once it is not. While down, work fails at once
 * (the handler answers RETRY) until the next attempt is due; the attempt itself is the reconnection, and
 * the delay between attempts doubles up to five seconds.
 */
export class ConnectionHealth {
  private readonly now: () => number
  private problem: string | null = null
  private backoffMs = FIRST_BACKOFF_MS
  private nextAttemptAt = 0

  constructor(now: () => number = Date.now) {
    this.now = now
  }

  /** Throws the last problem while down and no attempt is due; otherwise lets one attempt through. */
  gate(fail: (problem: string) => Error): void {
    if (this.problem === null) return
    if (this.now() < this.nextAttemptAt) throw fail(this.problem)
    this.nextAttemptAt = this.now() + this.backoffMs
  }

  down(problem: string): void {
    if (this.problem === null) this.backoffMs = FIRST_BACKOFF_MS
    else this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS)
    this.problem = problem
    this.nextAttemptAt = this.now() + this.backoffMs
  }

  up(): void {
    this.problem = null
  }

  state(): StorageHealth {
    return { ready: this.problem === null, problem: this.problem }
  }
}
