import type { Clock, Timer } from './clock.js'

interface Scheduled {
  readonly at: number
  readonly sequence: number
  readonly fire: () => void
}

/**
 * A clock that moves only when told to (`advance`, `set`), for tests. Timers and sleeps that fall due fire
 * in time order, each seeing `now()` at its own due time.
 */
export class ManualClock implements Clock {
  #now: number
  #sequence = 0
  readonly #scheduled = new Set<Scheduled>()

  constructor(start: number | Date = 0) {
    this.#now = typeof start === 'number' ? start : start.getTime()
  }

  now(): number {
    return this.#now
  }

  setTimer(ms: number, callback: () => void): Timer {
    const scheduled = { at: this.#now + Math.max(0, ms), sequence: this.#sequence++, fire: callback }
    this.#scheduled.add(scheduled)
    return { cancel: () => this.#scheduled.delete(scheduled) }
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason)
      const onAbort = () => {
        timer.cancel()
        reject(signal!.reason)
      }
      const timer = this.setTimer(ms, () => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      })
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Moves time forward by `ms`, firing what falls due on the way. */
  advance(ms: number): void {
    this.set(this.#now + ms)
  }

  /** Moves time to `at` (never backwards), firing what falls due on the way. */
  set(at: number | Date): void {
    const target = typeof at === 'number' ? at : at.getTime()
    if (target < this.#now)
      throw new RangeError(`a ManualClock does not go back (now ${this.#now}, asked ${target})`)
    for (let next = this.#nextDue(target); next !== undefined; next = this.#nextDue(target)) {
      this.#scheduled.delete(next)
      this.#now = next.at
      next.fire()
    }
    this.#now = target
  }

  /** How many timers and sleeps are waiting, so a test can wait until the code under test is asleep. */
  get pending(): number {
    return this.#scheduled.size
  }

  #nextDue(limit: number): Scheduled | undefined {
    let next: Scheduled | undefined
    for (const scheduled of this.#scheduled) {
      if (scheduled.at > limit) continue
      if (
        next === undefined ||
        scheduled.at < next.at ||
        (scheduled.at === next.at && scheduled.sequence < next.sequence)
      )
        next = scheduled
    }
    return next
  }
}
