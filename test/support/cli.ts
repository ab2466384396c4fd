/** Runs `countersign` in-process with a capturing Io: exit code and output, no child process. */
import { expect } from 'vitest'
import { main } from '../../src/cli/index.js'

export interface CliResult {
  readonly code: number
  readonly out: string
  readonly err: string
  /** Each write to stdout / stderr, as the command made it. */
  readonly outLines: readonly string[]
  readonly errLines: readonly string[]
}

export async function runCli(
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): Promise<CliResult> {
  const outLines: string[] = []
  const errLines: string[] = []
  const io = {
    out: (text: string) => void outLines.push(text),
    err: (text: string) => void errLines.push(text),
    cwd,
    env,
  }
  const code = await main(['node', 'countersign', ...args], io)
  return { code, out: outLines.join('\n'), err: errLines.join('\n'), outLines, errLines }
}

/** Bad input: exit 2, one line on stderr, no stack trace, nothing on stdout. */
export function expectUnusable(result: CliResult, message: RegExp): void {
  expect(result.code).toBe(2)
  expect(result.err).toMatch(message)
  expect(result.err.trim().split('\n')).toHaveLength(1)
  expect(result.err).not.toMatch(/\n\s+at /)
  expect(result.out).toBe('')
}
