import cluster, { type Worker } from 'node:cluster'
import type { Logger } from 'pino'
import { startAdminServer, type RunningAdminServer } from './admin-server.js'
import { clusterMetrics } from './cluster-metrics.js'
import type { AdminAddress } from './config-fields.js'

const FORWARDED = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const

/** How the primary respawns workers that exit while it is not stopping. */
export interface RespawnPolicy {
  /** Wait before the first respawn of a crash loop; doubled on each rapid crash after it. */
  readonly initialDelayMs: number
  readonly maxDelayMs: number
  /**
   * A worker that exits before it listens, or sooner than this after it listened, crashed rapidly (a crash
   * loop, not a one-off). Counted from listening, not from the fork: start-up is slow on a loaded host.
   */
  readonly rapidExitMs: number
  /** This many rapid crashes in a row and the primary gives up: it stops every worker and exits 1. */
  readonly giveUpAfter: number
}

export const DEFAULT_RESPAWN: RespawnPolicy = {
  initialDelayMs: 250,
  maxDelayMs: 10_000,
  rapidExitMs: 10_000,
  giveUpAfter: 5,
}

export interface WorkersOptions {
  readonly log: Logger
  /** The primary serves the probes and the workers' summed metrics here. */
  readonly admin?: AdminAddress
  readonly respawn?: Partial<RespawnPolicy>
}

function exitCause(code: number | null, signal: string | null): string {
  return signal ? `killed by ${signal}` : `exit code ${code ?? '?'}`
}

/**
 * Several worker processes sharing one listening socket (node:cluster), each running `args` (the same
 * command without --workers). The primary
 * - forwards SIGTERM, SIGINT and SIGHUP to every worker (its handlers are installed before the first fork,
 *   so a SIGHUP while they start does not kill it);
 * - respawns a worker that exits while it is not stopping, with a log line, backing off exponentially on
 *   rapid crashes and giving up (stopping the others) after `giveUpAfter` of them in a row;
 * - on the admin listener, reports ready only while every worker listens, and serves their summed metrics.
 * Resolves `true` when it stopped on a signal and every worker exited 0.
 */
export async function runWorkers(
  count: number,
  args: readonly string[],
  options: WorkersOptions,
): Promise<boolean> {
  const { log } = options
  const policy = { ...DEFAULT_RESPAWN, ...options.respawn }
  const live = new Set<Worker>()
  const listening = new Set<Worker>()
  const respawns = new Set<NodeJS.Timeout>()
  let stopping = false
  let clean = true
  let rapidCrashes = 0
  let finish: () => void = () => undefined
  const finished = new Promise<void>((resolve) => (finish = resolve))
  const finishIfDone = () => {
    if (stopping && live.size === 0 && respawns.size === 0) finish()
  }

  const stop = (signal: NodeJS.Signals) => {
    stopping = true
    for (const timer of respawns) clearTimeout(timer)
    respawns.clear()
    for (const worker of live) worker.process.kill(signal)
    finishIfDone()
  }

  const onExit = (
    worker: Worker,
    listenedAt: number | undefined,
    code: number | null,
    signal: string | null,
  ) => {
    live.delete(worker)
    listening.delete(worker)
    const pid = worker.process.pid
    if (stopping) {
      if (code !== 0) clean = false
      log.info({ worker: pid, code, signal }, `worker ${pid} stopped (${exitCause(code, signal)})`)
      return finishIfDone()
    }
    const rapid = listenedAt === undefined || Date.now() - listenedAt < policy.rapidExitMs
    rapidCrashes = rapid ? rapidCrashes + 1 : 1
    if (rapidCrashes >= policy.giveUpAfter) {
      log.fatal(
        { worker: pid, code, signal, crashes: rapidCrashes },
        `worker ${pid} exited (${exitCause(code, signal)}): ${rapidCrashes} workers in a row crashed before listening or within ${policy.rapidExitMs} ms of it; giving up and stopping the others. Fix the cause logged above, then start again`,
      )
      clean = false
      return stop('SIGTERM')
    }
    const delayMs = Math.min(policy.initialDelayMs * 2 ** (rapidCrashes - 1), policy.maxDelayMs)
    log.error(
      { worker: pid, code, signal, respawnInMs: delayMs },
      `worker ${pid} exited unexpectedly (${exitCause(code, signal)}): respawning it in ${delayMs} ms`,
    )
    const timer = setTimeout(() => {
      respawns.delete(timer)
      fork()
    }, delayMs)
    respawns.add(timer)
  }

  const fork = () => {
    const worker = cluster.fork()
    let listenedAt: number | undefined
    live.add(worker)
    worker.on('listening', () => {
      listenedAt = Date.now()
      listening.add(worker)
      log.info({ worker: worker.process.pid }, `worker ${worker.process.pid} listening`)
    })
    worker.on('exit', (code, signal) => onExit(worker, listenedAt, code, signal))
  }

  const forwarders = FORWARDED.map((signal) => {
    const handle = () => {
      if (signal === 'SIGHUP') for (const worker of live) worker.process.kill(signal)
      else stop(signal)
    }
    process.on(signal, handle)
    return [signal, handle] as const
  })
  let admin: RunningAdminServer | undefined
  try {
    if (options.admin) {
      admin = await startAdminServer({
        address: options.admin,
        log,
        metrics: clusterMetrics(),
        readiness: () =>
          Promise.resolve({
            ready: !stopping && listening.size === count,
            workers: `${listening.size}/${count} listening`,
          }),
      })
      log.info({ url: admin.url }, 'admin listener (probes, metrics of every worker)')
    }
    cluster.setupPrimary({ args: [...args] })
    for (let index = 0; index < count; index++) fork()
    await finished
    return clean
  } finally {
    for (const [signal, handle] of forwarders) process.off(signal, handle)
    await admin?.close()
  }
}
