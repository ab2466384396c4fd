import { relative } from 'node:path'
import type { Command } from 'commander'
import { parseDuration } from '../../core/index.js'
import { captureSignals, createServiceLogger, exitOnFatalError } from '../../service/index.js'
import { devBanner } from '../dev/banner.js'
import { runDemo } from '../dev/demo.js'
import { devLayout } from '../dev/layout.js'
import { readDevState } from '../dev/state.js'
import { DEV_DEFAULTS, startDev, type RunningDev } from '../dev/system.js'
import { ExitCode } from '../io.js'
import { action, invocation, type ProgramContext } from '../program.js'

const DEFAULT_DIR = '.countersign-dev'
const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const

interface StartOptions {
  readonly dir: string
  readonly hubListen?: string
  readonly handlerListen: string
  readonly handlerAdminListen: string
  readonly hubAdminListen: string
}

/** Starts the system; a stop signal during the (first, long) start-up abandons it cleanly. */
async function startUp(context: ProgramContext, options: StartOptions): Promise<RunningDev | undefined> {
  const aborted = new AbortController()
  const abort = () => aborted.abort()
  for (const signal of STOP_SIGNALS) process.on(signal, abort)
  try {
    return await startDev({
      dir: options.dir,
      ...(options.hubListen === undefined ? {} : { hubListen: options.hubListen }),
      handlerListen: options.handlerListen,
      handlerAdminListen: options.handlerAdminListen,
      hubAdminListen: options.hubAdminListen,
      progress: (line) => context.io.err(line),
      signal: aborted.signal,
    })
  } catch (error) {
    if (!aborted.signal.aborted) throw error
    context.io.err('stopped during start-up')
    return undefined
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, abort)
  }
}

async function start(context: ProgramContext, options: StartOptions): Promise<number> {
  const { io } = context
  const signals = captureSignals()
  try {
    // The services log to files under the folder; this logger only reports a crash, on stderr.
    const log = createServiceLogger({
      service: 'countersign-dev',
      level: 'warn',
      destination: process.stderr,
    })
    exitOnFatalError(log)
    io.err(
      `Countersign dev starting (pid ${process.pid}) in ${relative(io.cwd, devLayout(options.dir).root) || '.'}/`,
    )
    const dev = await startUp(context, options)
    if (dev === undefined) return ExitCode.ok
    const countersign = invocation(io)
    const demo = `${countersign} dev demo${options.dir === DEFAULT_DIR ? '' : ` --dir ${options.dir}`}`
    io.out(devBanner(dev, { cwd: io.cwd, countersign, demo }))
    const ended = await Promise.race([signals.serve(dev, log).then(() => undefined), dev.ended])
    await dev.close()
    if (ended === undefined) return ExitCode.ok
    io.err(`countersign dev: ${ended}; everything stopped`)
    return ExitCode.failed
  } finally {
    signals.release()
  }
}

async function demo(context: ProgramContext, options: { dir: string; timeout: string }): Promise<number> {
  const layout = devLayout(options.dir)
  const state = await readDevState(layout.state)
  const passed = await runDemo(state, {
    handlerDatabase: layout.handlerDatabase,
    timeoutMs: parseDuration(options.timeout, '--timeout'),
    print: (line) => context.io.out(line),
  })
  return passed ? ExitCode.ok : ExitCode.failed
}

export function registerDevCommands(program: Command, context: ProgramContext): void {
  const dev = program
    .command('dev')
    .description(
      'the whole system on this machine: hub, cloud co-signers, co-signers and a callback handler, on embedded defaults',
    )
    // `dev demo --dir X` gives --dir to `demo`, not to `dev`.
    .enablePositionalOptions()
    .option('--dir <dir>', 'the state folder (created at the first start, reused after)', DEFAULT_DIR)
    .option(
      '--hub-listen <host:port>',
      `the hub's address (default ${DEV_DEFAULTS.hubListen}; fixed once its co-signers are paired)`,
    )
    .option('--handler-listen <host:port>', "the callback handler's address", DEV_DEFAULTS.handlerListen)
    .option(
      '--handler-admin-listen <host:port>',
      "the callback handler's probes and metrics",
      DEV_DEFAULTS.handlerAdminListen,
    )
    .option(
      '--hub-admin-listen <host:port>',
      "the hub's probes and its workspace console (at http://localhost:PORT/console/)",
      DEV_DEFAULTS.hubAdminListen,
    )
    .addHelpText(
      'after',
      "\nSignals: SIGTERM/SIGINT stop every service; SIGHUP reloads the callback handler's policy.\nSee docs/dev.md.",
    )
    .action(action(context, (options: StartOptions) => start(context, options)))
  dev
    .command('demo')
    .description(
      'against a running `countersign dev`: a vault, its address, a RAW signature and a transfer, each signature verified',
    )
    .option('--dir <dir>', "the running system's state folder", DEFAULT_DIR)
    .option('--timeout <duration>', 'how long each transaction may take', '5m')
    .action(action(context, (options: { dir: string; timeout: string }) => demo(context, options)))
}
