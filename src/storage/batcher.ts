interface Pending<J, R> {
  readonly job: J
  readonly resolve: (result: R) => void
  readonly reject: (error: unknown) => void
}

/**
 * Runs jobs in batches, one batch at a time: the jobs that arrive while a batch is being processed form
 * the next one. No job waits for a timer. Used for the writer lock (batches of one: a mutex) and for
 * decisions (many per transaction: one COMMIT, one fsync, a few round trips for the whole batch).
 */
export class Batcher<J, R> {
  private readonly process: (jobs: readonly J[]) => Promise<readonly (R | Failed)[]>
  private readonly maxBatch: number
  private readonly queue: Pending<J, R>[] = []
  private running = false

  /** `process` returns, per job and in order, its result or the error that job alone failed with. */
  constructor(process: (jobs: readonly J[]) => Promise<readonly (R | Failed)[]>, maxBatch: number) {
    this.process = process
    this.maxBatch = maxBatch
  }

  submit(job: J): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ job, resolve, reject })
      if (!this.running) void this.drain()
    })
  }

  /** Resolves once every submitted job has settled. */
  async idle(): Promise<void> {
    while (this.running || this.queue.length > 0) await new Promise((resolve) => setTimeout(resolve, 5))
  }

  private async drain(): Promise<void> {
    this.running = true
    try {
      while (this.queue.length > 0) {
        // A synchronous driver (better-sqlite3) runs a whole batch inside one macrotask, so nothing could
        // join it: yield once, letting requests whose verification has finished queue up for this batch.
        await new Promise((resolve) => setImmediate(resolve))
        const batch = this.queue.splice(0, this.maxBatch)
        try {
          const results = await this.process(batch.map((pending) => pending.job))
          batch.forEach((pending, index) => {
            const result = results[index]
            if (result instanceof Failed) pending.reject(result.error)
            else pending.resolve(result as R)
          })
        } catch (error) {
          for (const pending of batch) pending.reject(error)
        }
      }
    } finally {
      this.running = false
    }
  }
}

/** The result of one job that failed on its own, while the rest of its batch went on. */
export class Failed {
  readonly error: unknown

  constructor(error: unknown) {
    this.error = error
  }
}
