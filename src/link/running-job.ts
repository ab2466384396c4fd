import type { Clock, Timer } from '../core/index.js'
import { MpcError, type MpcSession } from '../mpc/index.js'

/**
 * One job while it runs: its MPC session once it has one, the idle timer that abandons a stalled session,
 * and the promise its runner awaits. A job ends once: succeeded, failed, or cancelled by the hub.
 */
export class RunningJob {
  readonly id: string
  readonly session: string
  private mpc: MpcSession<unknown> | undefined
  private timer: Timer | undefined
  private ended = false
  cancelled = false
  /** The last envelope the session refused after it authenticated (it may have retired the session). */
  lastRefusal: string | undefined
  /** Why the job may take no further step (a later attempt superseded it), checked before each one. */
  fence: () => string | undefined = () => undefined
  private settle: { resolve(result: unknown): void; reject(error: unknown): void } | undefined

  constructor(id: string, session: string) {
    this.id = id
    this.session = session
  }

  get running(): MpcSession<unknown> | undefined {
    return this.ended ? undefined : this.mpc
  }

  /** Runs until the session finishes, fails, idles `idleMs` without an inbound message, or is cancelled. */
  attach<R>(mpc: MpcSession<R>, clock: Clock, idleMs: number): Promise<R> {
    this.mpc = mpc
    const outcome = new Promise<R>((resolve, reject) => {
      this.settle = { resolve: (result) => resolve(result as R), reject }
    })
    // The caller awaits it only once the session has started: a job abandoned before then (the runner stops
    // during a long first round) must not count as an unhandled rejection, which stops the process.
    outcome.catch(() => undefined)
    this.touch(clock, idleMs)
    return outcome
  }

  /** Re-arms the idle timer: the session just made progress. */
  touch(clock: Clock, idleMs: number): void {
    this.timer?.cancel()
    if (!this.ended) this.timer = clock.setTimer(idleMs, () => this.timeOut())
  }

  succeed(result: unknown): void {
    if (this.end()) this.settle?.resolve(result)
  }

  fail(error: unknown): void {
    if (this.end()) this.settle?.reject(error)
  }

  /** Ends the job without a result the hub needs (cancelled, or the runner stopped). */
  abandon(reason: Error): void {
    this.cancelled = true
    this.fail(reason)
  }

  private timeOut(): void {
    if (this.ended || this.mpc === undefined) return
    const missing = this.mpc.abandon()
    const refused = this.lastRefusal === undefined ? '' : ` (last refused message: ${this.lastRefusal})`
    this.fail(
      new MpcError('CS_MPC_MESSAGE_MISSING', `the session idled out: ${missing.message}${refused}`, {
        ...(missing.party === undefined ? {} : { party: missing.party }),
        cause: missing,
      }),
    )
  }

  private end(): boolean {
    if (this.ended) return false
    this.ended = true
    this.timer?.cancel()
    return true
  }
}
