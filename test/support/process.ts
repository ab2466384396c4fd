/** Runs the built `countersign` command as a child process, the way an operator runs it. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { join } from 'node:path'

export const CLI = join(import.meta.dirname, '..', '..', 'bin', 'countersign.js')

export interface CliProcess {
  readonly child: ChildProcessWithoutNullStreams
  readonly output: () => string
  /** Resolves with the URL once the handler prints that it listens. */
  readonly listening: Promise<string>
  readonly exited: Promise<number | null>
}

export function spawnCli(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, ...env } })
  let output = ''
  const listening = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const match = /listening on (https?:\/\/[^\s"]+)/.exec(output)
      if (match) resolve(match[1]!)
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.on('exit', (code) => reject(new Error(`exited with ${code} before listening:\n${output}`)))
  })
  // A process that never listens (a co-signer, a cloud co-signer) leaves `listening` pending or rejected unread.
  listening.catch(() => undefined)
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, output: () => output, listening, exited }
}
