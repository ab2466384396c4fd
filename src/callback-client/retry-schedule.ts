import type { AuthMode, CallbackRoute } from '../protocol/index.js'

/**
 * Where a RETRY series stands, saved after every RETRY answer so that a co-signer daemon restarted in the
 * middle of a 60-minute series (every 3 minutes, 20 times, protocol.md §4.3) resumes it instead of
 * starting over. It holds the exact request: a RETRY re-sends the identical bytes to the same URL.
 */
export interface RetrySchedule {
  readonly requestId: string
  readonly route: CallbackRoute
  readonly mode: AuthMode
  /** The full callback URL, route suffix included. */
  readonly url: string
  readonly contentType: string
  /** The exact body of every attempt: the RS256 JWT signed once, or the JSON text in certificate mode. */
  readonly body: string
  /** The payload the body carries, so a resumed call can prove it is the same request. */
  readonly payload: Record<string, unknown>
  readonly intervalMs: number
  readonly maxRetries: number
  /** Attempts already sent and answered RETRY. */
  readonly attempts: number
  /** Clock time, ms since the epoch, at which the next attempt is due. */
  readonly nextAttemptAt: number
}

/**
 * Durable storage of RETRY series, keyed by `requestId`. `save` must be durable before it resolves: the
 * client waits out the interval only after it, so a crash never loses an attempt count.
 */
export interface RetryScheduleStore {
  load(requestId: string): Promise<RetrySchedule | undefined>
  save(schedule: RetrySchedule): Promise<void>
  /** Called once the series ends (decided, failed or retries exhausted); not on abort. */
  delete(requestId: string): Promise<void>
}
