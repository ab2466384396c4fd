import type { Command } from 'commander'
import { loadCloudCosignerConfig, startCloudCosigner } from '../../hub/index.js'
import { captureSignals, createServiceLogger, exitOnFatalError } from '../../service/index.js'
import { ExitCode } from '../io.js'
import { action, type ProgramContext } from '../program.js'

async function start(context: ProgramContext, options: { readonly config: string }): Promise<number> {
  const signals = captureSignals()
  try {
    const config = loadCloudCosignerConfig(options.config, context.io.env)
    const log = createServiceLogger({
      service: `cloud-cosigner:${config.party.name}`,
      level: config.logLevel,
    })
    exitOnFatalError(log)
    context.io.err(`Countersign cloud co-signer ${config.party.name} starting (pid ${process.pid})`)
    const cosigner = await startCloudCosigner(config, { logger: log })
    // The runner ends on its own only when the hub refuses this cloud's token: that error is the exit.
    await Promise.race([signals.serve(cosigner, log), cosigner.done])
    await cosigner.close()
  } finally {
    signals.release()
  }
  return ExitCode.ok
}

export function registerCloudCosignerCommands(program: Command, context: ProgramContext): void {
  const cloud = program
    .command('cloud-cosigner')
    .description('a cloud co-signer: signs only what the hub authorized, each message hash once')
  cloud
    .command('start')
    .description('start a cloud co-signer (cloud1 or cloud2) that polls the hub for jobs')
    .requiredOption('--config <file>', 'YAML configuration file (see docs/cosigner-protocol.md)')
    .addHelpText('after', '\nSignals: SIGTERM/SIGINT abandon the sessions in flight and stop.')
    .action(action(context, (options: { config: string }) => start(context, options)))
}
