import { basename, dirname, extname, join, resolve } from 'node:path'
import { Option, type Command } from 'commander'
import {
  decideCase,
  formatDiagnostic,
  lintPolicy,
  loadPolicyCases,
  loadPolicyFile,
  PolicyCasesInvalid,
  readRequestPayload,
  runPolicyCases,
  type CasesReport,
} from '../../policy/index.js'
import { parseInstant } from '../../core/index.js'
import { FIXTURES_DIR } from '../../testing/index.js'
import { ExitCode, type Io } from '../io.js'
import { action, newCommand, type ProgramContext } from '../program.js'

/**
 * `countersign policy check | test | explain`: the offline tooling of the policy engine. Nothing here
 * touches the store. `registerPolicyCommands` returns the `policy` command so that store-backed
 * sub-commands (`policy replay`) can be added to the same group.
 */

const KINDS = ['tx_approval', 'tx_signing', 'config_change'] as const

/** `starter.yaml` → `starter.test.yaml`, next to the policy. */
export function defaultCasesPath(policyPath: string): string {
  const extension = extname(policyPath)
  return join(dirname(policyPath), `${basename(policyPath, extension)}.test${extension || '.yaml'}`)
}

function printReport(io: Io, report: CasesReport): void {
  for (const outcome of report.outcomes) {
    const decided = outcome.ruleId === null ? outcome.decision.trace.decided_by : outcome.ruleId
    const hold = outcome.hold === undefined ? '' : `, hold ${outcome.hold}`
    io.out(`${outcome.passed ? 'PASS' : 'FAIL'} ${outcome.name} — ${outcome.action} by ${decided}${hold}`)
    for (const problem of outcome.problems) io.out(`     ${problem}`)
  }
  const reached = report.total - report.unreached.length
  io.out(
    `coverage: ${reached}/${report.total} guards and rules decided at least one case` +
      (report.unreached.length > 0 ? `; not reached: ${report.unreached.join(', ')}` : ''),
  )
  const failed = report.outcomes.filter((outcome) => !outcome.passed).length
  io.out(`${report.outcomes.length - failed} passed, ${failed} failed`)
}

/** `policy test --json`: the same facts as the text report. */
function reportJson(report: CasesReport) {
  const failed = report.outcomes.filter((outcome) => !outcome.passed).length
  return {
    passed: report.outcomes.length - failed,
    failed,
    total: report.total,
    unreached: report.unreached,
    cases: report.outcomes.map((outcome) => ({
      name: outcome.name,
      passed: outcome.passed,
      action: outcome.action,
      ruleId: outcome.ruleId,
      decidedBy: outcome.decision.trace.decided_by,
      hold: outcome.hold ?? null,
      problems: outcome.problems,
    })),
  }
}

function registerCheck(policy: Command, context: ProgramContext): void {
  policy
    .command('check')
    .description(
      'Validate a policy file: schema, CEL types and lint (exit 0 ok, 1 errors found, 2 unreadable)',
    )
    .argument('<file>', 'policy file (YAML)')
    .option('--now <instant>', 'check list files against their max_age at this time (default: now)')
    .option('--json', 'the result as one JSON object {ok, version, digest, diagnostics}')
    .action(
      action(context, (file: string, options: { now?: string; json?: boolean }) => {
        const path = resolve(context.io.cwd, file)
        const report = lintPolicy(path, {
          now: options.now === undefined ? new Date() : parseInstant(options.now, '--now'),
        })
        if (options.json) {
          context.io.out(
            JSON.stringify({
              ok: report.policy !== null,
              version: report.policy?.version ?? null,
              digest: report.policy?.digest ?? null,
              diagnostics: report.diagnostics,
            }),
          )
          return report.policy === null ? ExitCode.failed : ExitCode.ok
        }
        for (const diagnostic of report.diagnostics) context.io.out(formatDiagnostic(file, diagnostic))
        const errors = report.diagnostics.filter((diagnostic) => diagnostic.severity === 'error').length
        const warnings = report.diagnostics.length - errors
        if (report.policy === null) {
          context.io.out(`${file}: ${errors} error(s), ${warnings} warning(s)`)
          return ExitCode.failed
        }
        context.io.out(
          `${file}: ok, version ${report.policy.version}, ${warnings} warning(s), digest ${report.policy.digest}`,
        )
        return ExitCode.ok
      }),
    )
}

function registerTest(policy: Command, context: ProgramContext): void {
  policy
    .command('test')
    .description('Run policy test cases (exit 0 all pass, 1 a case failed, 2 unusable policy or cases)')
    .argument('<file>', 'policy file (YAML)')
    .argument('[cases]', 'cases file (default: <file>.test.yaml next to the policy)')
    .option(
      '--fixtures <dir>',
      "directory of fixture payloads (default: the cases file's `fixtures`, else the fixtures shipped with countersign)",
    )
    .option('--json', 'the report as one JSON object {passed, failed, unreached, cases}')
    .action(
      action(
        context,
        (file: string, casesFile: string | undefined, options: { fixtures?: string; json?: boolean }) => {
          const path = resolve(context.io.cwd, file)
          const compiled = loadPolicyFile(path)
          const cases = loadPolicyCases(resolve(context.io.cwd, casesFile ?? defaultCasesPath(file)), {
            defaultFixturesDir: FIXTURES_DIR,
            ...(options.fixtures === undefined
              ? {}
              : { fixturesDir: resolve(context.io.cwd, options.fixtures) }),
          })
          const report = runPolicyCases(compiled, cases)
          if (options.json) context.io.out(JSON.stringify(reportJson(report)))
          else printReport(context.io, report)
          return report.outcomes.every((outcome) => outcome.passed) ? ExitCode.ok : ExitCode.failed
        },
      ),
    )
}

function registerExplain(policy: Command, context: ProgramContext): void {
  policy
    .command('explain')
    .description('Show the decision and trace for one request, recording nothing (exit 0, or 2 on bad input)')
    .argument('<file>', 'policy file (YAML)')
    .requiredOption('--request <payload>', 'request payload (JSON file)')
    .addOption(new Option('--kind <kind>', 'request kind (default: derived from the payload)').choices(KINDS))
    .option('--now <instant>', 'evaluation time (default: now)')
    .option(
      '--velocity <json>',
      'window figures before the request, e.g. \'{"vault_24h":{"sum_usd":1000,"count":2}}\'',
    )
    .option('--json', 'one JSON object {action, ruleId, reason, require, hold, trace}')
    .action(
      action(
        context,
        (
          file: string,
          options: {
            request: string
            kind?: (typeof KINDS)[number]
            now?: string
            velocity?: string
            json?: boolean
          },
        ) => {
          const compiled = loadPolicyFile(resolve(context.io.cwd, file))
          const now = options.now === undefined ? new Date() : parseInstant(options.now, '--now')
          const {
            decision,
            action: answer,
            hold,
          } = decideCase(compiled, {
            spec: {
              name: 'explain',
              expect: {},
              now: now.toISOString(),
              ...(options.kind === undefined ? {} : { kind: options.kind }),
              ...(options.velocity === undefined ? {} : { velocity: parseVelocity(options.velocity) }),
            },
            payload: readRequestPayload(resolve(context.io.cwd, options.request)),
            family: undefined,
            now: undefined,
          })
          if (options.json) {
            context.io.out(
              JSON.stringify({
                action: answer,
                ruleId: decision.ruleId,
                reason: decision.reason,
                require: decision.require ?? null,
                hold: hold ?? null,
                trace: decision.trace,
              }),
            )
            return ExitCode.ok
          }
          const by = decision.ruleId === null ? decision.trace.decided_by : decision.ruleId
          context.io.out(
            `${answer} by ${by}: ${decision.reason}${hold === undefined ? '' : ` (hold ${hold.state})`}`,
          )
          if (decision.require !== undefined) {
            const { quorum, approvers, ttlMs } = decision.require
            context.io.out(
              `requires ${quorum} of ${approvers.join(', ')} within ${Math.round(ttlMs / 60_000)}m`,
            )
          }
          context.io.out(JSON.stringify(decision.trace, null, 2))
          return ExitCode.ok
        },
      ),
    )
}

function parseVelocity(text: string): Record<string, { sum_usd: number; count: number }> {
  let value: unknown
  try {
    value = JSON.parse(text) as unknown
  } catch {
    throw new PolicyCasesInvalid('--velocity must be JSON such as {"vault_24h":{"sum_usd":1000,"count":2}}')
  }
  const valid =
    typeof value === 'object' &&
    value !== null &&
    Object.values(value).every(
      (figures: unknown) =>
        typeof figures === 'object' &&
        figures !== null &&
        Number.isFinite((figures as { sum_usd?: unknown }).sum_usd) &&
        Number.isSafeInteger((figures as { count?: unknown }).count),
    )
  if (!valid)
    throw new PolicyCasesInvalid('--velocity must map window ids to {"sum_usd": number, "count": integer}')
  return value as Record<string, { sum_usd: number; count: number }>
}

export function registerPolicyCommands(program: Command, context: ProgramContext): Command {
  const policy = newCommand('policy', context.io).description('Check, test and explain policy files')
  registerCheck(policy, context)
  registerTest(policy, context)
  registerExplain(policy, context)
  program.addCommand(policy)
  return policy
}
