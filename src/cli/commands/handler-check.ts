import { dirname, resolve } from 'node:path'
import type { Command } from 'commander'
import { CountersignError } from '../../core/index.js'
import { ConfigInvalid, loadConfigFile } from '../../handler/index.js'
import { formatDiagnostic, lintPolicy } from '../../policy/index.js'
import { importRsaPrivateKey, importRsaPublicKey } from '../../protocol/index.js'
import {
  describeError,
  readKeyText,
  readYamlSource,
  renderProblem,
  resolvePath,
  substituteEnv,
  type YamlSource,
} from '../../service/index.js'
import { ExitCode } from '../io.js'
import { action, type ProgramContext } from '../program.js'

/**
 * `countersign handler check --config FILE`: configuration, keys and policy in one pass, every problem at
 * once. The configuration's own check stops at its first stage that fails (a schema problem hides the key
 * problems behind it), so the keys and the policy are also checked here from the raw document.
 */

interface Finding {
  readonly severity: 'error' | 'warning'
  readonly text: string
}

interface KeyEntry {
  readonly path: (string | number)[]
  readonly value: unknown
  readonly kind: 'public' | 'private'
}

/** Every key the document names, wherever the schema stage may have stopped before reading it. */
function keyEntries(document: Record<string, unknown>): KeyEntry[] {
  const list = (key: string) =>
    Array.isArray(document[key]) ? (document[key] as Record<string, unknown>[]) : []
  return [
    ...list('cosigners').map((entry, index) => ({
      path: ['cosigners', index, 'publicKey'],
      value: entry?.publicKey,
      kind: 'public' as const,
    })),
    ...list('apiUsers').map((entry, index) => ({
      path: ['apiUsers', index, 'handlerKey'],
      value: entry?.handlerKey,
      kind: 'private' as const,
    })),
  ]
}

function keyProblems(
  source: YamlSource,
  document: Record<string, unknown>,
  reported: Set<string>,
): Finding[] {
  const baseDir = dirname(source.file)
  return keyEntries(document).flatMap(({ path, value, kind }) => {
    const at = path.join('.')
    if (typeof value !== 'string' || reported.has(at)) return []
    try {
      const text = readKeyText(value, baseDir)
      if (kind === 'public') importRsaPublicKey(text, 'the key')
      else importRsaPrivateKey(text, 'the key')
      return []
    } catch (error) {
      const problem = { path: at, message: describeError(error), file: source.file, ...source.locate(path) }
      return [{ severity: 'error' as const, text: `error: ${renderProblem(problem)}` }]
    }
  })
}

function policyProblems(policyPath: string): Finding[] {
  const report = lintPolicy(policyPath)
  return report.diagnostics.map((diagnostic) => ({
    severity: diagnostic.severity,
    text: formatDiagnostic(policyPath, diagnostic),
  }))
}

/** The policy path as the handler would resolve it, or undefined when the document names none. */
function policyPathOf(document: Record<string, unknown>, env: NodeJS.ProcessEnv, baseDir: string) {
  const policy = env.COUNTERSIGN_POLICY || document.policy
  return typeof policy === 'string' && policy !== '' ? resolvePath(policy, baseDir) : undefined
}

export function checkHandlerConfig(configPath: string, env: NodeJS.ProcessEnv): Finding[] {
  const findings: Finding[] = []
  const reported = new Set<string>()
  try {
    loadConfigFile(configPath, env)
  } catch (error) {
    if (!(error instanceof ConfigInvalid)) throw error
    for (const [index, text] of error.problems.entries()) {
      findings.push({ severity: 'error', text: `error: ${text}` })
      reported.add(error.details[index]!.path)
    }
  }
  let source: YamlSource
  try {
    source = readYamlSource(configPath)
  } catch {
    return findings // unreadable or not YAML: the configuration's problem above says so
  }
  const document = (substituteEnv(source.value ?? {}, env).value ?? {}) as Record<string, unknown>
  // Keys are checked here only when the configuration stopped before reading them.
  if (findings.length > 0) findings.push(...keyProblems(source, document, reported))
  const policyPath = policyPathOf(document, env, dirname(source.file))
  if (policyPath !== undefined) {
    try {
      findings.push(...policyProblems(policyPath))
    } catch (error) {
      if (!(error instanceof CountersignError)) throw error
      findings.push({ severity: 'error', text: `error: ${error.message}` })
    }
  }
  return findings
}

export function registerHandlerCheck(handler: Command, context: ProgramContext): void {
  handler
    .command('check')
    .description(
      'check a configuration, its keys and its policy in one pass; exit 0 "OK", or 1 listing every problem',
    )
    .requiredOption('--config <file>', 'YAML configuration file (see docs/handler.md)')
    .option('--json', 'a JSON object {ok, problems, warnings} instead of text')
    .action(
      action(context, (options: { config: string; json?: boolean }) => {
        const findings = checkHandlerConfig(resolve(context.io.cwd, options.config), context.io.env)
        const errors = findings
          .filter((finding) => finding.severity === 'error')
          .map((finding) => finding.text)
        const warnings = findings
          .filter((finding) => finding.severity === 'warning')
          .map((finding) => finding.text)
        if (options.json)
          context.io.out(JSON.stringify({ ok: errors.length === 0, problems: errors, warnings }))
        else {
          for (const text of [...errors, ...warnings]) context.io.out(text)
          context.io.out(errors.length === 0 ? 'OK' : `${errors.length} problem(s)`)
        }
        return errors.length === 0 ? ExitCode.ok : ExitCode.failed
      }),
    )
}
