import { relative } from 'node:path'
import type { Command } from 'commander'
import { parseDuration, systemClock } from '../../core/index.js'
import {
  consoleLinkFromStore,
  ConsoleUserInvalid,
  HubApiError,
  hubLogger,
  initWorkspace,
  loadHubConfig,
  pairingTokenFromStore,
  startHub,
} from '../../hub/index.js'
import { captureSignals, exitOnFatalError } from '../../service/index.js'
import { ExitCode } from '../io.js'
import { action, invocation, type ProgramContext } from '../program.js'

async function init(
  context: ProgramContext,
  options: { dir: string; ownerCsr?: string; ownerName?: string; listen: string; store?: string },
): Promise<number> {
  const result = await initWorkspace({
    dir: options.dir,
    listen: options.listen,
    ...(options.store === undefined ? {} : { store: options.store }),
    ...(options.ownerCsr === undefined ? {} : { ownerCsr: options.ownerCsr }),
    ...(options.ownerName === undefined ? {} : { ownerName: options.ownerName }),
  })
  const path = (file: string) => relative(context.io.cwd, file) || '.'
  const countersign = invocation(context.io)
  context.io.out(
    [
      `Workspace created in ${path(options.dir)}/`,
      `  hub configuration   ${path(result.configPath)}`,
      `  Owner API key       ${result.ownerApiKey}`,
      ...(result.ownerKeyPath === undefined
        ? []
        : [`  Owner private key   ${path(result.ownerKeyPath)} (0600)`]),
      `  cloud co-signers    ${path(result.cloudConfigs.cloud1)}, ${path(result.cloudConfigs.cloud2)}`,
      '',
      'Start the hub and the two cloud co-signers:',
      `  ${countersign} hub start --config ${path(result.configPath)}`,
      `  ${countersign} cloud-cosigner start --config ${path(result.cloudConfigs.cloud1)}`,
      `  ${countersign} cloud-cosigner start --config ${path(result.cloudConfigs.cloud2)}`,
      'Then create a Signer API user (POST /v1/management/api_users) and pair a co-signer with it:',
      `  ${countersign} hub pairing-token --config ${path(result.configPath)} --api-user <id>`,
      '',
    ].join('\n'),
  )
  return ExitCode.ok
}

async function start(context: ProgramContext, options: { config: string }): Promise<number> {
  const signals = captureSignals()
  try {
    const config = loadHubConfig(options.config, context.io.env)
    const log = hubLogger(config)
    exitOnFatalError(log)
    const running = await startHub(config, { log })
    context.io.err(`Countersign hub listening on ${running.url} (pid ${process.pid})`)
    await signals.serve(running, log)
  } finally {
    signals.release()
  }
  return ExitCode.ok
}

async function pairingToken(
  context: ProgramContext,
  options: { config: string; apiUser: string },
): Promise<number> {
  const config = loadHubConfig(options.config, context.io.env)
  try {
    const issued = await pairingTokenFromStore(config, options.apiUser, systemClock)
    context.io.out(issued.pairingToken)
    context.io.err(`single-use pairing token for ${issued.name} (${issued.role}), valid one hour`)
    return ExitCode.ok
  } catch (error) {
    if (!(error instanceof HubApiError)) throw error
    context.io.err(`countersign: ${error.message}`)
    return ExitCode.failed
  }
}

interface ConsoleLinkOptions {
  config: string
  user: string
  role: string
  origin?: string
  ttl: string
  apiUser?: string
}

async function consoleLink(context: ProgramContext, options: ConsoleLinkOptions): Promise<number> {
  const config = loadHubConfig(options.config, context.io.env)
  const origin = options.origin ?? config.console?.origin
  if (origin === undefined) {
    context.io.err(
      'countersign: hub.yaml has no console: give its origin with --origin, or add console.origin',
    )
    return ExitCode.failed
  }
  const ttlMs = parseDuration(options.ttl, '--ttl')
  try {
    const link = await consoleLinkFromStore(
      config,
      {
        name: options.user,
        role: options.role.toUpperCase(),
        origin,
        ttlMs,
        ...(options.apiUser === undefined ? {} : { apiUserId: options.apiUser }),
      },
      systemClock,
    )
    context.io.out(link)
    context.io.err(
      `single-use enrolment link for ${options.user} (${options.role.toUpperCase()}), valid ${options.ttl}`,
    )
    return ExitCode.ok
  } catch (error) {
    if (!(error instanceof ConsoleUserInvalid)) throw error
    context.io.err(`countersign: ${error.message}`)
    return ExitCode.failed
  }
}

export function registerHubCommands(program: Command, context: ProgramContext): void {
  const hub = program
    .command('hub')
    .description('the workspace hub: a Fireblocks-compatible REST API, policy, and the co-signers it drives')
  hub
    .command('init')
    .description('create a workspace: hub keys and configuration, its Owner, the two cloud co-signers')
    .option('--dir <dir>', 'folder to create it in', 'hub')
    .option('--owner-csr <file>', "the Owner API user's CSR (PEM); generated with its key when left out")
    .option('--owner-name <name>', "the Owner API user's name")
    .option('--listen <host:port>', 'where the hub will listen', '127.0.0.1:8443')
    .option('--store <url>', 'the hub store: sqlite:./hub.db by default, postgres://… for several replicas')
    .action(
      action(
        context,
        (options: { dir: string; ownerCsr?: string; ownerName?: string; listen: string; store?: string }) =>
          init(context, options),
      ),
    )
  hub
    .command('start')
    .description('start the hub')
    .requiredOption('--config <file>', 'hub.yaml (countersign hub init writes one)')
    .action(action(context, (options: { config: string }) => start(context, options)))
  hub
    .command('pairing-token')
    .description("issue a single-use, one-hour pairing token for a Signer or Admin API user's co-signer")
    .requiredOption('--config <file>', 'hub.yaml')
    .requiredOption('--api-user <id>', 'the API user (its API key)')
    .action(action(context, (options: { config: string; apiUser: string }) => pairingToken(context, options)))
  hub
    .command('console-link')
    .description(
      'add a workspace console user in a role (audited) and print their single-use passkey enrolment link',
    )
    .requiredOption('--config <file>', 'hub.yaml')
    .requiredOption('--user <name>', 'who signs in (a new name, or an existing user given this role)')
    .requiredOption('--role <role>', 'OWNER, ADMIN, NON_SIGNING_ADMIN, SIGNER, APPROVER, EDITOR or VIEWER')
    .option('--origin <url>', "the console's origin (hub.yaml's console.origin when left out)")
    .option(
      '--api-user <id>',
      'an OWNER or ADMIN API user (same role) whose policy-draft votes this person casts with a passkey',
    )
    .option('--ttl <duration>', 'how long the link stays valid', '24h')
    .addHelpText(
      'after',
      '\nGive the link over a channel that proves who the person is: whoever opens it first enrols.\nThe token is in the fragment (#token=...), which browsers never send to servers or proxies.',
    )
    .action(action(context, (options: ConsoleLinkOptions) => consoleLink(context, options)))
}
