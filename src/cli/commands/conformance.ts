import type { Command } from 'commander'
import {
  CheckStatus,
  loadCallbackKeys,
  runConformance,
  type CheckResult,
} from '../../callback-client/index.js'
import { ExitCode, type Io } from '../io.js'
import { action, type ProgramContext } from '../program.js'
import { resolvePath } from './simulate.js'

interface ConformanceOptions {
  url: string
  cosignerKey: string
  handlerPubkey: string
  signerId?: string
  json?: boolean
}

function printTable(io: Io, results: readonly CheckResult[]): void {
  const width = Math.max(...results.map((result) => result.id.length))
  io.out(`${'CHECK'.padEnd(width)}  RESULT  REASON`)
  for (const result of results)
    io.out(`${result.id.padEnd(width)}  ${result.status.padEnd(6)}  ${result.reason}`)
  const count = (status: CheckStatus) => results.filter((result) => result.status === status).length
  io.out(
    `${results.length} checks: ${count(CheckStatus.pass)} PASS, ${count(CheckStatus.fail)} FAIL, ${count(CheckStatus.skip)} SKIP`,
  )
}

/** Exit 0 when no check failed (skips allowed), 1 on any FAIL, 2 on unusable input. */
async function conformance(io: Io, options: ConformanceOptions): Promise<number> {
  const keys = await loadCallbackKeys({
    cosignerKeyPath: resolvePath(io, options.cosignerKey),
    handlerPublicKeyPath: resolvePath(io, options.handlerPubkey),
  })
  const report = await runConformance({
    url: options.url,
    ...keys,
    ...(options.signerId === undefined ? {} : { signerId: options.signerId }),
  })
  if (options.json === true) io.out(JSON.stringify(report))
  else printTable(io, report.results)
  return report.passed ? ExitCode.ok : ExitCode.failed
}

export function registerConformanceCommands(program: Command, context: ProgramContext): void {
  program
    .command('conformance')
    .description(
      'grade a live callback handler (any language) against the co-signer protocol: a table of checks\n' +
        'exit 0 when nothing FAILs, 1 on any FAIL, 2 on bad input',
    )
    .requiredOption('--url <url>', 'the handler BASE URL configured in the co-signer')
    .requiredOption('--cosigner-key <file>', 'the co-signer private key the handler trusts (a test key)')
    .requiredOption('--handler-pubkey <file>', 'the handler public key registered for the API user')
    .option('--signer-id <id>', 'signerId (API user) to put in every payload')
    .option('--json', 'print the report as JSON')
    .action(action(context, (options: ConformanceOptions) => conformance(context.io, options)))
}
