import type { RetrySchedule, RetryScheduleStore } from '../callback-client/index.js'

/**
 * A `RetryScheduleStore` in memory, for tests and the simulator: it survives a call, not a process. Each
 * schedule is copied in and out, so a caller cannot change what was saved.
 */
export class MemoryRetryScheduleStore implements RetryScheduleStore {
  readonly #schedules = new Map<string, RetrySchedule>()

  load(requestId: string): Promise<RetrySchedule | undefined> {
    const schedule = this.#schedules.get(requestId)
    return Promise.resolve(schedule === undefined ? undefined : structuredClone(schedule))
  }

  save(schedule: RetrySchedule): Promise<void> {
    this.#schedules.set(schedule.requestId, structuredClone(schedule))
    return Promise.resolve()
  }

  delete(requestId: string): Promise<void> {
    this.#schedules.delete(requestId)
    return Promise.resolve()
  }

  /** The requestIds of the series in progress. */
  get requestIds(): readonly string[] {
    return [...this.#schedules.keys()]
  }
}
