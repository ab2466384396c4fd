/** Runs `countersign` in-process with a capturing Io, for the keys command tests. */
import { expect } from 'vitest'
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

/** Bad input: exit 2, one line on stderr, no stack trace, nothing on stdout. */
export function expectUnusable(result: CliResult, message: RegExp): void {
  expect(result.code).toBe(2)
  expect(result.err).toMatch(message)
  expect(result.err.trim().split('\n')).toHaveLength(1)
  expect(result.err).not.toMatch(/\n\s+at /)
  expect(result.out).toBe('')
}
