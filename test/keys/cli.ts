/** Runs `countersign` in-process with a capturing Io, for the keys command tests. */
import { main } from '../../src/cli/main.js'

export interface CliResult {
  readonly code: number
  readonly out: string
  readonly err: string
}

export async function runCli(args: readonly string[], cwd: string): Promise<CliResult> {
  const out: string[] = []
  const err: string[] = []
  const io = { out: (text: string) => out.push(text), err: (text: string) => err.push(text), cwd, env: {} }
  const code = await main(['node', 'countersign', ...args], io)
  return { code, out: out.join('\n'), err: err.join('\n') }
}
