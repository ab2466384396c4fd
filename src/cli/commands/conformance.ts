import type { Command } from 'commander'
import { CallbackInputInvalid, loadCallbackKeys } from '../../callback-client/index.js'
import { CheckStatus, runConformance, type CheckResult, type ConformanceTarget } from '../../testing/index.js'
import { ExitCode, type Io } from '../io.js'
import { action, type ProgramContext } from '../program.js'
import { resolvePath, tlsTrustOf } from './simulate.js'

interface ConformanceOptions {
  url: string
  mode: string
  cosignerKey?: string
  handlerPubkey?: string
  pin?: string
  ca?: string
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

/** JWT mode needs both key files; certificate mode needs the pin and no keys. `--ca` works in both. */
async function targetOf(io: Io, options: ConformanceOptions): Promise<ConformanceTarget> {
  const trust = await tlsTrustOf(io, options)
  const common = {
    url: options.url,
    ...(options.signerId === undefined ? {} : { signerId: options.signerId }),
    ...(trust.trustedCa === undefined ? {} : { trustedCa: trust.trustedCa }),
  }
  const hasKeys = options.cosignerKey !== undefined || options.handlerPubkey !== undefined
  if (options.mode === 'certificate') {
    if (trust.pinnedSpkiSha256 === undefined) {
      throw new CallbackInputInvalid(
        "certificate mode needs --pin, the SHA-256 of the handler's TLS SPKI PEM",
      )
    }
    if (hasKeys) {
      throw new CallbackInputInvalid(
        'certificate mode uses no keys: drop --cosigner-key and --handler-pubkey',
      )
    }
    return { ...common, mode: 'certificate', pinnedSpkiSha256: trust.pinnedSpkiSha256 }
  }
  if (options.mode !== 'jwt') {
    throw new CallbackInputInvalid(`--mode must be jwt or certificate, not "${options.mode}"`)
  }
  if (options.cosignerKey === undefined || options.handlerPubkey === undefined) {
    throw new CallbackInputInvalid('JWT mode needs --cosigner-key and --handler-pubkey')
  }
  const keys = await loadCallbackKeys({
    cosignerKeyPath: resolvePath(io, options.cosignerKey),
    handlerPublicKeyPath: resolvePath(io, options.handlerPubkey),
  })
  return {
    ...common,
    mode: 'jwt',
    ...keys,
    ...(trust.pinnedSpkiSha256 === undefined ? {} : { pinnedSpkiSha256: trust.pinnedSpkiSha256 }),
  }
}

/** Exit 0 when no check failed (skips allowed), 1 on any FAIL, 2 on unusable input. */
async function conformance(io: Io, options: ConformanceOptions): Promise<number> {
  const report = await runConformance(await targetOf(io, options), () =>
    io.err(
      `warning: conformance sends real callback requests to ${options.url}: the handler records a decision and an audit entry for each, and reserves velocity for what it approves. Grade a test handler, not production; the requestIds sent are listed at the end.`,
    ),
  )
  if (options.json === true) io.out(JSON.stringify(report))
  else printTable(io, report.results)
  io.err(`requestIds sent (${report.requestIds.length}): ${report.requestIds.join(' ')}`)
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
    .option('--mode <mode>', 'jwt, or certificate (plain JSON over pinned TLS, https only)', 'jwt')
    .option('--cosigner-key <file>', 'JWT mode: the co-signer private key the handler trusts (a test key)')
    .option('--handler-pubkey <file>', 'JWT mode: the handler public key registered for the API user')
    .option(
      '--pin <sha256>',
      "SHA-256 of the handler's TLS SPKI PEM (as `countersign keys fingerprint cert.pem` prints); required in certificate mode, optional over https in JWT mode",
    )
    .option('--ca <file>', "PEM certificates to trust for the handler's TLS (a private CA or self-signed)")
    .option('--signer-id <id>', 'signerId (API user) to put in every payload')
    .option('--json', 'print the report as JSON')
    .action(action(context, (options: ConformanceOptions) => conformance(context.io, options)))
}
