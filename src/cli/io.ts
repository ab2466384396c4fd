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

export const processIo: Io = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
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
