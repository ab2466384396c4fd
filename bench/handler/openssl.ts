import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** Reads the sign/s column of the `rsa 2048 bits` row of `openssl speed` (one process, so one core). */
export function parseRsa2048SignRate(output: string): number {
  const row = /^rsa\s+2048 bits\s+\S+s\s+\S+s\s+([\d.]+)\s+[\d.]+\s*$/m.exec(output)
  if (!row) throw new Error('openssl speed printed no "rsa 2048 bits" row')
  return Number(row[1])
}

/**
 * The physical limit: RSA-2048 private-key operations per second of the openssl binary on one core. Without
 * `-multi` openssl runs one process; pinning it keeps the figure a single core's even on a busy machine.
 */
export async function opensslRsa2048SignRate(seconds: number): Promise<number> {
  const args = ['speed', '-seconds', String(seconds), 'rsa2048']
  const { stdout } = await run('taskset', ['-c', '0', 'openssl', ...args]).catch(() => run('openssl', args))
  return parseRsa2048SignRate(stdout)
}
