import cluster from 'node:cluster'
import { relative } from 'node:path'
import type { Command } from 'commander'
import {
  ConfigInvalid,
  loadConfigFile,
  prepareDevelopmentMode,
  startHandler,
  type DevelopmentSetup,
  type RunningHandler,
} from '../../handler/index.js'
import { ExitCode, type Io } from '../io.js'
import { action, type ProgramContext } from '../program.js'

interface StartOptions {
  readonly config?: string
  readonly devDir: string
  readonly listen?: string
  readonly workers: string
}

function devBanner(io: Io, url: string, setup: DevelopmentSetup): void {
  const path = (file: string) => relative(io.cwd, file) || '.'
  const keys = `--cosigner-key ${path(setup.cosignerKey)} --handler-pubkey ${path(setup.handlerPublicKey)} --signer-id ${setup.signerId}`
  io.out(
    [
      '',
      'Countersign handler — DEVELOPMENT MODE (embedded defaults, plain HTTP, generated keys: not for production)',
      `  listening on ${url}`,
      `  state:  ${path(setup.dir)}/ (configuration ${path(setup.configPath)}, policy ${path(setup.policyPath)}, SQLite countersign.db)`,
      '',
      'Send it a test request, signed as a co-signer would:',
      `  npx countersign simulate --url ${url} ${keys} --fixture eth-transfer`,
      'Run the conformance suite against it:',
      `  npx countersign conformance --url ${url} ${keys}`,
      'Held requests (one-time addresses under the starter policy) wait for approvers:',
      `  npx countersign approvals list --store sqlite:${path(setup.dir)}/countersign.db`,
      '',
    ].join('\n'),
  )
}

/** Resolves when the process is asked to stop; SIGHUP reloads the policy instead. */
function untilStopped(handler: RunningHandler): Promise<void> {
  return new Promise((resolve) => {
    const reload = () => handler.reloadPolicy()
    const stop = () => {
      process.off('SIGHUP', reload)
      process.off('SIGTERM', stop)
      process.off('SIGINT', stop)
      resolve()
    }
    process.on('SIGHUP', reload)
    process.on('SIGTERM', stop)
    process.on('SIGINT', stop)
  })
}

/**
 * Several worker processes sharing one listening socket (node:cluster), so signing and verifying use every
 * core. Workers share the store too: each write transaction holds the database's writer lock, which is what
 * keeps idempotency, velocity and the audit chain exact across processes and replicas.
 */
async function runWorkers(count: number, configPath: string, listen: string | undefined): Promise<number> {
  cluster.setupPrimary({
    args: ['handler', 'start', '--config', configPath, ...(listen ? ['--listen', listen] : [])],
  })
  const workers = Array.from({ length: count }, () => cluster.fork())
  const forward = (signal: NodeJS.Signals) => () => workers.forEach((worker) => worker.process.kill(signal))
  const onTerm = forward('SIGTERM')
  const onHup = forward('SIGHUP')
  process.on('SIGTERM', onTerm).on('SIGINT', onTerm).on('SIGHUP', onHup)
  const codes = await Promise.all(
    workers.map(
      (worker) => new Promise<number>((resolve) => worker.on('exit', (code) => resolve(code ?? 1))),
    ),
  )
  process.off('SIGTERM', onTerm).off('SIGINT', onTerm).off('SIGHUP', onHup)
  return codes.every((code) => code === 0) ? ExitCode.ok : ExitCode.failed
}

async function start(context: ProgramContext, options: StartOptions): Promise<number> {
  const { io } = context
  const workers = Number(options.workers)
  if (!Number.isInteger(workers) || workers < 1)
    throw new ConfigInvalid([`--workers: "${options.workers}" is not a whole number of at least 1`])
  let setup: DevelopmentSetup | undefined
  let configPath = options.config
  if (configPath === undefined) {
    setup = await prepareDevelopmentMode(options.devDir, options.listen ?? '127.0.0.1:8080')
    configPath = setup.configPath
  }
  if (workers > 1) return runWorkers(workers, configPath, options.listen)
  const env = options.listen ? { ...io.env, COUNTERSIGN_LISTEN: options.listen } : io.env
  const handler = await startHandler(loadConfigFile(configPath, env))
  if (setup) devBanner(io, handler.url, setup)
  else io.out(`Countersign handler listening on ${handler.url}`)
  await untilStopped(handler)
  await handler.close()
  // A cluster worker's IPC channel would keep it alive, and its primary waiting, after the server closed.
  if (cluster.isWorker) process.disconnect()
  return ExitCode.ok
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
    .option('--workers <n>', 'worker processes sharing the port (one per core for throughput)', '1')
    .addHelpText(
      'after',
      '\nSignals: SIGTERM/SIGINT drain in-flight requests and stop; SIGHUP reloads the policy file.',
    )
    .action(action(context, (options: StartOptions) => start(context, options)))
}
