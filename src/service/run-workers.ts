import cluster from 'node:cluster'

const FORWARDED = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const

/**
 * Several worker processes sharing one listening socket (node:cluster), each running `args` (the same
 * command without --workers). The primary forwards SIGTERM, SIGINT and SIGHUP to every worker (its own
 * handlers are installed before the first fork, so a SIGHUP while they start does not kill it) and
 * resolves with `true` when every worker exited 0.
 */
export async function runWorkers(count: number, args: readonly string[]): Promise<boolean> {
  const workers: ReturnType<typeof cluster.fork>[] = []
  const forwarders = FORWARDED.map((signal) => {
    const forward = () => workers.forEach((worker) => worker.process.kill(signal))
    process.on(signal, forward)
    return [signal, forward] as const
  })
  try {
    cluster.setupPrimary({ args: [...args] })
    for (let index = 0; index < count; index++) workers.push(cluster.fork())
    const codes = await Promise.all(
      workers.map(
        (worker) => new Promise<number>((resolve) => worker.on('exit', (code) => resolve(code ?? 1))),
      ),
    )
    return codes.every((code) => code === 0)
  } finally {
    for (const [signal, forward] of forwarders) process.off(signal, forward)
  }
}
