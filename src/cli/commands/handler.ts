import cluster from 'node:cluster'
import { relative } from 'node:path'
import type { Command } from 'commander'
import {
  ConfigInvalid,
  handlerLogger,
  loadConfigFile,
  prepareDevelopmentMode,
  startHandler,
  type DevelopmentSetup,
  type RunningHandler,
} from '../../handler/index.js'
import { captureSignals, exitOnFatalError, runWorkers, type ProcessSignals } from '../../service/index.js'
import { consoleSteps } from '../console-steps.js'
import { ExitCode, type Io } from '../io.js'
import { action, invocation, type ProgramContext } from '../program.js'
import { registerHandlerCheck } from './handler-check.js'

interface StartOptions {
  readonly config?: string
  readonly devDir: string
  readonly listen?: string
  readonly adminListen?: string
  readonly workers: string
}

function devBanner(io: Io, handler: RunningHandler, setup: DevelopmentSetup): void {
  const { url } = handler
  const path = (file: string) => relative(io.cwd, file) || '.'
  const countersign = invocation(io)
  const keys = `--cosigner-key ${path(setup.cosignerKey)} --handler-pubkey ${path(setup.handlerPublicKey)} --signer-id ${setup.signerId}`
  io.out(
    [
      '',
      'Countersign handler — DEVELOPMENT MODE (embedded defaults, plain HTTP, generated keys: not for production)',
      `  listening on ${url} (pid ${process.pid}: send it SIGHUP to reload the policy, SIGTERM to stop)`,
      ...(handler.adminUrl
        ? [`  probes and metrics on ${handler.adminUrl} (/healthz, /readyz, /metrics)`]
        : []),
      ...(handler.consoleUrl ? [`  approvals console ${handler.consoleUrl} (docs/console.md)`] : []),
      `  state:  ${path(setup.dir)}/ (configuration ${path(setup.configPath)}, policy ${path(setup.policyPath)}, SQLite countersign.db)`,
      '',
      'Send it a test request, signed as a co-signer would:',
      `  ${countersign} simulate --url ${url} ${keys} --fixture eth-transfer`,
      'Run the conformance suite against it:',
      `  ${countersign} conformance --url ${url} ${keys}`,
      'Held requests (one-time addresses under the starter policy) wait for approvers:',
      `  ${countersign} approvals list --store sqlite:${path(setup.dir)}/countersign.db`,
      ...consoleSteps(countersign, handler, path(setup.configPath)),
      '',
    ].join('\n'),
  )
}

async function start(context: ProgramContext, options: StartOptions): Promise<number> {
  const workers = Number(options.workers)
  if (!Number.isInteger(workers) || workers < 1)
    throw new ConfigInvalid([`--workers: "${options.workers}" is not a whole number of at least 1`])
  if (workers > 1) return startWorkers(context, options, workers)
  const signals = captureSignals()
  try {
    await serve(context, options, signals)
  } finally {
    signals.release()
    // A cluster worker's IPC channel would keep it alive, and its primary waiting, after the server
    // closed or failed to start. `worker.disconnect()` (not `process.disconnect()`, after which Node exits
    // the worker with 0) lets it exit with the command's code.
    cluster.worker?.disconnect()
  }
  return ExitCode.ok
}

async function prepareConfigPath(
  options: StartOptions,
): Promise<{ configPath: string; setup?: DevelopmentSetup }> {
  if (options.config !== undefined) return { configPath: options.config }
  const setup = await prepareDevelopmentMode(
    options.devDir,
    options.listen ?? '127.0.0.1:8080',
    ...(options.adminListen ? [options.adminListen] : []),
  )
  return { configPath: setup.configPath, setup }
}

async function startWorkers(
  context: ProgramContext,
  options: StartOptions,
  workers: number,
): Promise<number> {
  const { configPath } = await prepareConfigPath(options)
  // Read here too, so that a bad file is reported once rather than by every worker, and for `admin:`.
  const config = loadConfigFile(configPath, listenEnv(context.io, options))
  const log = handlerLogger(config)
  context.io.err(`Countersign handler starting ${workers} workers (primary pid ${process.pid})`)
  const args = [
    'handler',
    'start',
    '--config',
    configPath,
    ...(options.listen ? ['--listen', options.listen] : []),
  ]
  const clean = await runWorkers(workers, args, { log, ...(config.admin ? { admin: config.admin } : {}) })
  return clean ? ExitCode.ok : ExitCode.failed
}

function listenEnv(io: Io, options: StartOptions): NodeJS.ProcessEnv {
  return options.listen ? { ...io.env, COUNTERSIGN_LISTEN: options.listen } : io.env
}

async function serve(context: ProgramContext, options: StartOptions, signals: ProcessSignals): Promise<void> {
  const { io } = context
  // Production stdout carries JSON log lines only: human lines go to stderr (the dev banner stays on stdout).
  io.err(`Countersign handler starting (pid ${process.pid})`)
  const { configPath, setup } = await prepareConfigPath(options)
  const config = loadConfigFile(configPath, listenEnv(io, options))
  const log = handlerLogger(config)
  exitOnFatalError(log)
  const handler = await startHandler(config, { log, worker: cluster.isWorker })
  if (setup) devBanner(io, handler, setup)
  else
    io.err(
      `Countersign handler listening on ${handler.url} (pid ${process.pid})${handler.adminUrl ? `; probes and metrics on ${handler.adminUrl}` : ''}`,
    )
  await signals.serve(handler, log)
}

export function registerHandlerCommands(program: Command, context: ProgramContext): void {
  const handler = program.command('handler').description('the callback handler service a co-signer calls')
  handler
    .command('start')
    .description(
      'start the handler; without --config, a development mode on embedded defaults under --dev-dir',
    )
    .option('--config <file>', 'YAML configuration file (see docs/handler.md)')
    .option('--dev-dir <dir>', 'development-mode state folder', '.countersign')
    .option('--listen <host:port>', 'address to listen on (port 0 picks a free port)')
    .option(
      '--admin-listen <host:port>',
      'development mode: address of the probes and metrics (default 127.0.0.1:9090); in production set admin.listen',
    )
    .option('--workers <n>', 'worker processes sharing the port (one per core for throughput)', '1')
    .addHelpText(
      'after',
      '\nSignals: SIGTERM/SIGINT drain in-flight requests (within limits.drainTimeout) and stop; SIGHUP reloads the policy file.\nSend them to the PID the handler prints, not to an `npm start` wrapper.',
    )
    .action(action(context, (options: StartOptions) => start(context, options)))
  registerHandlerCheck(handler, context)
}
