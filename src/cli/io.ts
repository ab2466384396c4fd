/**
 * What a command may touch of the outside world. Commands write through this, never to `console`, so
 * tests capture their output and exit codes without spawning a process.
 */
export interface Io {
  readonly out: (text: string) => void
  readonly err: (text: string) => void
  readonly cwd: string
  readonly env: NodeJS.ProcessEnv
}

let pipeGuarded = false

/**
 * `countersign audit export | head -1`: once the reader has gone, stdout's writes fail with EPIPE, which
 * Node raises as an unhandled 'error' event (a stack trace). The output is no longer wanted, so the
 * command stops quietly, as `cat` does; any other write failure is named in one line.
 */
function guardBrokenPipe(): void {
  if (pipeGuarded) return
  pipeGuarded = true
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(ExitCode.ok)
    process.stderr.write(`error: cannot write the output (${error.code ?? error.name})\n`)
    process.exit(ExitCode.internal)
  })
}

export const processIo: Io = {
  out: (text) => {
    guardBrokenPipe()
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`)
  },
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  cwd: process.cwd(),
  env: process.env,
}

/** Exit codes shared by every command. Commands with a yes/no answer document their own 0/1 meaning. */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  protocolViolation: 3,
  internal: 70,
} as const
