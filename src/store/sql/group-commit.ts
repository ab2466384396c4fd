import type { SqlConnection, SqlSession } from './types.js'

interface Job {
  readonly work: (session: SqlSession) => Promise<unknown>
  readonly resolve: (value: unknown) => void
  readonly reject: (error: unknown) => void
}

export interface GroupCommitOptions {
  /** Statement(s) that open the exclusive transaction, e.g. `BEGIN IMMEDIATE`. */
  readonly begin: (connection: SqlConnection) => Promise<void>
  readonly maxBatch: number
}

/**
 * Serialises write transactions on one connection and commits those that queue up behind a running one
 * together: one durable COMMIT (one fsync) for the whole batch. No job waits for a timer; a batch is
 * simply whatever arrived while the previous COMMIT was in flight.
 */
export class GroupCommitter {
  private readonly queue: Job[] = []
  private running = false

  constructor(
    private readonly connection: SqlConnection,
    private readonly options: GroupCommitOptions,
  ) {}

  submit<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject })
      if (!this.running) void this.drain()
    })
  }

  /** Resolves once every queued job has settled. */
  async idle(): Promise<void> {
    while (this.running || this.queue.length > 0) await new Promise((resolve) => setTimeout(resolve, 5))
  }

  private async drain(): Promise<void> {
    this.running = true
    try {
      while (this.queue.length > 0) {
        // A synchronous driver (better-sqlite3) runs a whole batch inside one macrotask, so nothing could
        // join it: yield once, letting requests whose verification has finished queue up for this COMMIT.
        await new Promise((resolve) => setImmediate(resolve))
        await this.runBatch(this.queue.splice(0, this.options.maxBatch))
      }
    } finally {
      this.running = false
    }
  }

  private async runBatch(batch: readonly Job[]): Promise<void> {
    const settled: { job: Job; ok: boolean; value: unknown }[] = []
    try {
      await this.options.begin(this.connection)
      for (const job of batch) {
        await this.connection.exec('SAVEPOINT job')
        try {
          const value = await job.work(this.connection)
          await this.connection.exec('RELEASE SAVEPOINT job')
          settled.push({ job, ok: true, value })
        } catch (error) {
          await this.connection.exec('ROLLBACK TO SAVEPOINT job')
          await this.connection.exec('RELEASE SAVEPOINT job')
          settled.push({ job, ok: false, value: error })
        }
      }
      await this.connection.exec('COMMIT')
    } catch (error) {
      // Nothing of this batch is durable: every caller must hear so (the handler then answers RETRY).
      await this.connection.exec('ROLLBACK').catch(() => undefined)
      for (const job of batch) job.reject(error)
      return
    }
    for (const { job, ok, value } of settled) (ok ? job.resolve : job.reject)(value)
  }
}
