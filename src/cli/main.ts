import { readFileSync } from 'node:fs'
import { Command, CommanderError } from 'commander'
import { ExitCode, processIo, type Io } from './io.js'
import { newCommand, reportError, type ProgramContext } from './program.js'

type Register = (program: Command, context: ProgramContext) => void

/**
 * A top-level command: its name, the first line of its description (for `countersign --help`) and the
 * module that registers it. Only the command being run is imported: importing every module costs about
 * 400 ms at each start (the handler, the storage drivers and the co-signer simulator), so `--version`,
 * `--help` and a one-shot `keys fingerprint` would pay for all of them. `main.test.ts` checks that each
 * summary is the first line of the real command's description.
 */
export interface LazyCommand {
  readonly name: string
  readonly summary: string
  readonly load: () => Promise<Register>
}

export const COMMANDS: readonly LazyCommand[] = [
  {
    name: 'keys',
    summary:
      'Generate keys and CSRs, print fingerprints, check a key against its CSR, diagnose refused requests',
    load: async () => (await import('./commands/keys.js')).registerKeysCommands,
  },
  {
    name: 'handler',
    summary: 'the callback handler service a co-signer calls',
    load: async () => (await import('./commands/handler.js')).registerHandlerCommands,
  },
  {
    name: 'audit',
    summary: 'the hash-chained audit log',
    load: async () => (await import('./commands/audit.js')).registerAuditCommands,
  },
  {
    name: 'approvals',
    summary: 'requests held for a human quorum',
    load: async () => (await import('./commands/approvals.js')).registerApprovalsCommands,
  },
  {
    name: 'approvers',
    summary:
      'the people who may vote on held requests, each with the public key their votes must verify with',
    load: async () => (await import('./commands/approvers.js')).registerApproversCommands,
  },
  {
    name: 'decisions',
    summary: "the handler's recorded decisions (read-only)",
    load: async () => (await import('./commands/decisions.js')).registerDecisionsCommands,
  },
  {
    name: 'velocity',
    summary: 'velocity windows (amounts approved over time)',
    load: async () => (await import('./commands/velocity.js')).registerVelocityCommands,
  },
  {
    name: 'simulate',
    summary:
      'act as a co-signer: send one signed request to a callback handler, follow RETRY, verify the answer',
    load: async () => (await import('./commands/simulate.js')).registerSimulateCommands,
  },
  {
    name: 'conformance',
    summary: 'grade a live callback handler (any language) against the co-signer protocol: a table of checks',
    load: async () => (await import('./commands/conformance.js')).registerConformanceCommands,
  },
  {
    name: 'hub',
    summary: 'the workspace hub: a Fireblocks-compatible REST API, policy, and the co-signers it drives',
    load: async () => (await import('./commands/hub.js')).registerHubCommands,
  },
  {
    name: 'cosigner',
    summary: "the co-signer daemon: API users' share of every signature, after their callback handlers",
    load: async () => (await import('./commands/cosigner.js')).registerCosignerCommands,
  },
  {
    name: 'cloud-cosigner',
    summary: 'a cloud co-signer: signs only what the hub authorized, each message hash once',
    load: async () => (await import('./commands/cloud-cosigner.js')).registerCloudCosignerCommands,
  },
  {
    name: 'dev',
    summary:
      'the whole system on this machine: hub, cloud co-signers, co-signers and a callback handler, on embedded defaults',
    load: async () => (await import('./commands/dev.js')).registerDevCommands,
  },
  {
    name: 'policy',
    summary: 'Check, test and explain policy files',
    load: async () => {
      const [{ registerPolicyCommands }, { registerPolicyReplayCommand }] = await Promise.all([
        import('./commands/policy.js'),
        import('./commands/policy-replay.js'),
      ])
      return (program, context) => {
        registerPolicyReplayCommand(registerPolicyCommands(program, context), context)
      }
    },
  },
]

/** The version of the package this file ships in: `src/cli/` and `dist/cli/` both sit two folders below it. */
function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
  return manifest.version
}

/** The command `argv` runs (`countersign keys …`, `countersign help keys`), if any. */
function requestedCommand(argv: readonly string[]): string | undefined {
  const operands = argv.slice(2).filter((arg) => !arg.startsWith('-'))
  return operands[0] === 'help' ? operands[1] : operands[0]
}

/**
 * Builds the `countersign` command: the command `argv` runs is registered in full, every other one as
 * its name and summary only, enough for the top-level help and for commander to name an unknown command.
 */
export async function buildProgram(context: ProgramContext, argv: readonly string[]): Promise<Command> {
  const program = newCommand('countersign', context.io)
    .description(
      'Self-hosted API co-signing: callback handler, keys tooling, co-signer simulator and conformance suite',
    )
    .version(packageVersion())
    // Options after a command name are that command's: `dev demo --dir X` gives --dir to `demo`, not `dev`.
    .enablePositionalOptions()
  const requested = requestedCommand(argv)
  for (const command of COMMANDS) {
    if (command.name === requested) (await command.load())(program, context)
    else program.command(command.name).summary(command.summary)
  }
  return program
}

/** Runs the CLI with `argv` as `process.argv` gives it and returns the exit code. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  const context: ProgramContext = { io, exitCode: ExitCode.ok }
  try {
    const program = await buildProgram(context, argv)
    await program.parseAsync([...argv])
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.exitCode === 0
        ? ExitCode.ok
        : ExitCode.usage
    }
    return reportError(io, error)
  }
  return context.exitCode
}
