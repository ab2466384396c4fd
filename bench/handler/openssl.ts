import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface OpensslSigning {
  /** Signatures per wall-clock second: what one core gives when nothing else runs on it. */
  readonly signPerSecond: number
  /** CPU seconds per RSA-2048 signature: the physical limit, and nearly the same on a busy machine. */
  readonly cpuSecondsPerSign: number
}

/**
 * Reads `openssl speed rsa2048`: the count and CPU time of its private-key line on stderr ("Doing 2048 bits
 * private rsa's for 5s: 16000 2048 bits private RSA's in 4.98s"; openssl times with the process's CPU
 * clock unless `-elapsed` is given), and the sign/s column of the `rsa 2048 bits` row on stdout.
 */
export function parseOpensslRsa2048(stdout: string, stderr: string): OpensslSigning {
  const row = /^rsa\s+2048 bits\s+\S+s\s+\S+s\s+([\d.]+)\s+[\d.]+\s*$/m.exec(stdout)
  if (!row) throw new Error('openssl speed printed no "rsa 2048 bits" row')
  const signPerSecond = Number(row[1])
  const doing = /: (\d+) 2048 bits private RSA's in ([\d.]+)s/.exec(stderr)
  const cpuSecondsPerSign = doing ? Number(doing[2]) / Number(doing[1]) : 1 / signPerSecond
  return { signPerSecond, cpuSecondsPerSign }
}

/**
 * The physical limit: RSA-2048 private-key operations of the openssl binary on one core. Without `-multi`
 * openssl runs one process; pinning it keeps the figure a single core's even on a busy machine.
 */
export async function opensslRsa2048(seconds: number): Promise<OpensslSigning> {
  const args = ['speed', '-seconds', String(seconds), 'rsa2048']
  const { stdout, stderr } = await run('taskset', ['-c', '0', 'openssl', ...args]).catch(() =>
    run('openssl', args),
  )
  return parseOpensslRsa2048(stdout, stderr)
}
