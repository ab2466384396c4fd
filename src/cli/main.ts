import { CommanderError } from 'commander'
import { ExitCode, processIo, type Io } from './io.js'
import { newCommand, reportError, type ProgramContext } from './program.js'
import { registerKeysCommands } from './commands/keys.js'
import { registerHandlerCommands } from './commands/handler.js'
import { registerAuditCommands } from './commands/audit.js'
import { registerApprovalsCommands } from './commands/approvals.js'
import { registerApproversCommands } from './commands/approvers.js'
import { registerVelocityCommands } from './commands/velocity.js'
import { registerDecisionsCommands } from './commands/decisions.js'
import { registerSimulateCommands } from './commands/simulate.js'
import { registerConformanceCommands } from './commands/conformance.js'
import { registerPolicyCommands } from './commands/policy.js'
import { registerPolicyReplayCommand } from './commands/policy-replay.js'

const VERSION = '0.1.0'

/** Builds the `countersign` command with every sub-command registered. */
export function buildProgram(context: ProgramContext) {
  const program = newCommand('countersign', context.io)
    .description(
      'Self-hosted API co-signing: callback handler, keys tooling, co-signer simulator and conformance suite',
    )
    .version(VERSION)
  // One line per command group; each group lives in its own file under ./commands/.
  registerKeysCommands(program, context)
  registerHandlerCommands(program, context)
  registerAuditCommands(program, context)
  registerApprovalsCommands(program, context)
  registerApproversCommands(program, context)
  registerVelocityCommands(program, context)
  registerDecisionsCommands(program, context)
  registerSimulateCommands(program, context)
  registerConformanceCommands(program, context)
  registerPolicyReplayCommand(registerPolicyCommands(program, context), context)
  return program
}

/** Runs the CLI with `argv` as `process.argv` gives it and returns the exit code. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  const context: ProgramContext = { io, exitCode: ExitCode.ok }
  const program = buildProgram(context)
  try {
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
