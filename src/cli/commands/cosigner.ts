import { readFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { pairCosigner, startCosigner } from '../../cosigner/index.js'
import { captureSignals, createServiceLogger, exitOnFatalError } from '../../service/index.js'
import { ExitCode } from '../io.js'
import { action, type ProgramContext } from '../program.js'

interface PairOptions {
  readonly hub: string
  readonly dir: string
  readonly pairingToken?: string
  readonly pairingTokenFile?: string
  readonly name?: string
  readonly force?: boolean
}

/** The token from the option, a file, or COUNTERSIGN_PAIRING_TOKEN: never required on the command line. */
async function pairingTokenOf(context: ProgramContext, options: PairOptions): Promise<string | undefined> {
  if (options.pairingToken !== undefined) return options.pairingToken
  if (options.pairingTokenFile !== undefined) return (await readFile(options.pairingTokenFile, 'utf8')).trim()
  return context.io.env.COUNTERSIGN_PAIRING_TOKEN
}

async function pair(context: ProgramContext, options: PairOptions): Promise<number> {
  const pairingToken = await pairingTokenOf(context, options)
  if (pairingToken === undefined) {
    context.io.err(
      'countersign: no pairing token: give --pairing-token, --pairing-token-file or COUNTERSIGN_PAIRING_TOKEN',
    )
    return ExitCode.usage
  }
  const paired = await pairCosigner({
    dir: options.dir,
    hubUrl: options.hub,
    pairingToken,
    ...(options.name === undefined ? {} : { name: options.name }),
    ...(options.force === undefined ? {} : { force: options.force }),
  })
  context.io.out(`paired with API user ${paired.party.name} (co-signer ${paired.cosignerId}); start it with:`)
  context.io.out(`  countersign cosigner start --dir ${options.dir}`)
  return ExitCode.ok
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
type LogLevel = (typeof LEVELS)[number]

async function start(
  context: ProgramContext,
  options: { readonly dir: string; readonly logLevel: string },
): Promise<number> {
  if (!(LEVELS as readonly string[]).includes(options.logLevel)) {
    context.io.err(`countersign: --log-level must be one of ${LEVELS.join(', ')}`)
    return ExitCode.usage
  }
  const signals = captureSignals()
  try {
    const log = createServiceLogger({
      service: 'countersign-cosigner',
      level: options.logLevel as LogLevel,
    })
    exitOnFatalError(log)
    const cosigner = await startCosigner({ dir: options.dir, log })
    context.io.err(
      `Countersign co-signer for API user ${cosigner.party} polling the hub (pid ${process.pid})`,
    )
    await Promise.race([signals.serve(cosigner, log), cosigner.done])
    await cosigner.close()
  } finally {
    signals.release()
  }
  return ExitCode.ok
}

export function registerCosignerCommands(program: Command, context: ProgramContext): void {
  const cosigner = program
    .command('cosigner')
    .description("the co-signer daemon: an API user's share of every signature, after its callback handler")
  cosigner
    .command('pair')
    .description('pair with an API user of a hub, using its single-use pairing token')
    .requiredOption('--hub <url>', "the hub's URL, e.g. https://hub.example.com")
    .option(
      '--pairing-token <token>',
      'the pairing token (or --pairing-token-file, or COUNTERSIGN_PAIRING_TOKEN)',
    )
    .option('--pairing-token-file <file>', 'a file holding the pairing token')
    .option('--dir <dir>', "the co-signer's folder (keys and state, 0600 files)", 'cosigner')
    .option('--name <name>', "this co-signer's name, as the hub lists it")
    .option('--force', 're-enrol a folder already paired (the old refresh token stops working)')
    .action(action(context, (options: PairOptions) => pair(context, options)))
  cosigner
    .command('start')
    .description('start the co-signer: poll the hub and sign what its API user is asked to sign')
    .option('--dir <dir>', "the co-signer's folder", 'cosigner')
    .option('--log-level <level>', 'pino level', 'info')
    .action(action(context, (options: { dir: string; logLevel: string }) => start(context, options)))
}
