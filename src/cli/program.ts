import { Command, CommanderError } from 'commander'
import { CountersignError } from '../core/index.js'
import { ExitCode, type Io } from './io.js'

/**
 * A command's action returns its exit code. Errors are turned into one clear line here, never a stack
 * trace: a `CountersignError` prints its message, anything else a generic line (the cause may hold secrets).
 */
export type CommandAction<A extends unknown[]> = (...args: A) => Promise<number> | number

export interface ProgramContext {
  readonly io: Io
  /** Set by a command's action; read by `main` after parsing. */
  exitCode: number
}

export function action<A extends unknown[]>(
  context: ProgramContext,
  run: CommandAction<A>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      context.exitCode = await run(...args)
    } catch (error) {
      context.exitCode = reportError(context.io, error)
    }
  }
}

export function reportError(io: Io, error: unknown): number {
  // Modules move from the protocol's error base to the core's one by one: both are ours.
  if (error instanceof CountersignError) {
    io.err(`error: ${error.message}`)
    return ExitCode.usage
  }
  if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage
  io.err(
    `error: unexpected failure (${error instanceof Error ? error.name : typeof error}); run with DEBUG=countersign for details`,
  )
  if (process.env.DEBUG?.includes('countersign')) io.err(String(error instanceof Error ? error.stack : error))
  return ExitCode.internal
}

export function newCommand(name: string, io: Io): Command {
  return new Command(name).exitOverride().configureOutput({
    writeOut: (text) => io.out(text.trimEnd()),
    writeErr: (text) => io.err(text.trimEnd()),
  })
}

/**
 * How to run `countersign` again where this process was started, for the commands a banner suggests.
 * Started through npm (`npm start`, `npm exec`, `npx`: npm sets `npm_command`), npm found the package
 * here, so `npx countersign` finds the same one. Started directly, `countersign` is the installed binary:
 * `npx countersign` would be fetched from the public registry when no package of that name is installed
 * where it is typed, so it is never suggested then.
 */
export function invocation(io: Io): string {
  return io.env.npm_command === undefined ? 'countersign' : 'npx countersign'
}
