import type { Logger } from 'pino'
import { describeError } from './describe-error.js'

/** A started service as the process lifecycle drives it. */
export interface RunningService {
  /** Re-reads what may change without a restart (the policy); keeps the running one when the new is bad. */
  reload?(): unknown
  /** Stops accepting, drains within the server's bound, closes the store. */
  close(): Promise<void>
}

export interface ProcessSignals {
  /** Serves until SIGTERM or SIGINT (applying a SIGHUP that came during start-up first), then closes. */
  serve(service: RunningService, log: Logger): Promise<void>
  /** Removes the handlers (start-up failed, or the service stopped). */
  release(): void
}

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const

/**
 * Takes SIGHUP, SIGTERM and SIGINT from the moment it is called, which must be the very start of start-up:
 * Node's default for SIGHUP is to exit, so a reload sent while keys are generated or the store opens
 * killed the process. A SIGHUP before `serve` is remembered and applied once the service is up; a SIGTERM
 * before `serve` stops the service as soon as it has started.
 */
export function captureSignals(): ProcessSignals {
  let service: RunningService | undefined
  let reloadPending = false
  let stop: () => void = () => undefined
  const stopped = new Promise<void>((resolve) => (stop = resolve))
  const onHup = () => {
    if (service === undefined) reloadPending = true
    else service.reload?.()
  }
  process.on('SIGHUP', onHup)
  for (const signal of STOP_SIGNALS) process.on(signal, stop)
  const release = () => {
    process.off('SIGHUP', onHup)
    for (const signal of STOP_SIGNALS) process.off(signal, stop)
  }
  return {
    release,
    async serve(running, log) {
      service = running
      try {
        if (reloadPending) {
          log.info('SIGHUP came during start-up: reloading now')
          running.reload?.()
        }
        await stopped
        log.info('stopping: draining requests in flight')
        await running.close()
        log.info('stopped')
      } finally {
        release()
      }
    },
  }
}

/**
 * A crash (an error nobody handled, such as a database client's `'error'` event) is logged as one line
 * with its cause, not a stack trace with internal paths and client objects, and the process exits.
 */
export function exitOnFatalError(log: Logger, exitCode = 70): void {
  const fatal = (kind: string) => (error: unknown) => {
    log.fatal({ cause: describeError(error) }, `${kind}: the process stops`)
    process.exit(exitCode)
  }
  process.on('uncaughtException', fatal('uncaught error'))
  process.on('unhandledRejection', fatal('unhandled rejection'))
}
