import { relative } from 'node:path'
import type { Command } from 'commander'
import {
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

async function start(context: ProgramContext, options: StartOptions): Promise<number> {
  const { io } = context
  let setup: DevelopmentSetup | undefined
  let configPath = options.config
  if (configPath === undefined) {
    setup = await prepareDevelopmentMode(options.devDir, options.listen ?? '127.0.0.1:8080')
    configPath = setup.configPath
  }
  const env = options.listen ? { ...io.env, COUNTERSIGN_LISTEN: options.listen } : io.env
  const handler = await startHandler(loadConfigFile(configPath, env))
  if (setup) devBanner(io, handler.url, setup)
  else io.out(`Countersign handler listening on ${handler.url}`)
  await untilStopped(handler)
  await handler.close()
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
    .addHelpText(
      'after',
      '\nSignals: SIGTERM/SIGINT drain in-flight requests and stop; SIGHUP reloads the policy file.',
    )
    .action(action(context, (options: StartOptions) => start(context, options)))
}
