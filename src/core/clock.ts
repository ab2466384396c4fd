import { setTimeout as sleepFor } from 'node:timers/promises'

/** A scheduled callback; `cancel` is safe to call after it fired. */
export interface Timer {
  cancel(): void
}

/**
 * The one source of time: every module reads the time, waits and schedules through a `Clock`, so tests
 * drive time with `ManualClock` instead of patching `Date` or waiting for real.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
  /** Resolves after `ms`; rejects with the signal's reason as soon as `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
  /** Calls `callback` once after `ms`, unless cancelled first. */
  setTimer(ms: number, callback: () => void): Timer
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    signal?.throwIfAborted()
    try {
      await sleepFor(ms, undefined, signal === undefined ? {} : { signal })
    } catch (error) {
      // timers/promises rejects with its own AbortError; callers expect the signal's reason, as fetch does.
      if (signal?.aborted) throw signal.reason
      throw error
    }
  },
  setTimer: (ms, callback) => {
    const handle = setTimeout(callback, ms)
    return { cancel: () => clearTimeout(handle) }
  },
}
