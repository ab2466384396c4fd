import { createHash } from 'node:crypto'
import { isActionAllowed, REQUEST_KINDS, type Action, type RequestKind } from '../protocol/index.js'
import { celEnvironment, type PolicyEnvironment } from './cel-environment.js'
import { CelRecord } from './engine/cel-base.js'
import { compileCondition, type Condition } from './engine/condition.js'
import { checkUniqueIds, compileMatch, compileWhen } from './engine/compile-rules.js'
import { formatDuration, parseDuration } from '../core/index.js'
import { compileLists, type ListFileReader } from './engine/compile-lists.js'
import { compileWindows } from './compile-velocity.js'
import type { Diagnostics, Path } from './engine/diagnostics.js'
import { readPolicySource } from './engine/policy-source.js'
import type { PolicyDiagnostic } from './errors.js'
import { shadowedRules } from './engine/lint-rules.js'
import { PolicyFileSchema, type GuardSpec, type PolicyFile, type RuleSpec } from './policy-schema.js'
import type { CompiledGuard, CompiledRule, PolicyProgram, QuorumRequirement } from './program.js'
import { isKnownField, isTxKind } from './request-context.js'

export interface CompileOptions {
  readonly sourceName: string
  readonly readListFile: ListFileReader
  /** When given, lists older than their `max_age` are reported (as warnings: evaluation fails closed on them). */
  readonly now?: Date
}

export interface CompileResult {
  /** Present when there is no error (warnings allowed). */
  readonly program: PolicyProgram | undefined
  readonly diagnostics: readonly PolicyDiagnostic[]
}

/**
 * The co-signer stops retrying 60 minutes after the first call (20 tries, every 3 minutes); a hold must
 * resolve before that with margin for the last retry, so quorum TTLs are capped at 55 minutes.
 */
export const MAX_HOLD_TTL_MS = 55 * 60_000
const DEFAULT_GUARD_KINDS: readonly RequestKind[] = ['tx_approval', 'tx_signing']

function compileRule(
  spec: RuleSpec,
  kind: RequestKind,
  at: Path,
  env: PolicyEnvironment,
  diagnostics: Diagnostics,
): CompiledRule | undefined {
  const match = compileMatch(
    spec.match,
    (field) => isKnownField(kind, field),
    at,
    diagnostics,
    `${kind} requests`,
  )
  const when =
    spec.when === undefined
      ? undefined
      : compileWhen(env.env, env.patterns, spec.when, [...at, 'when'], diagnostics, (error) =>
          unknownNameHint(error, env),
        )
  let require: QuorumRequirement | undefined
  if (spec.require !== undefined) require = compileQuorum(spec.require, [...at, 'require'], diagnostics)
  const action: Action | undefined = spec.action ?? (spec.require === undefined ? undefined : 'RETRY')
  if (action === undefined) {
    diagnostics.error(at, 'a rule needs an action (or `require`, which holds the request with RETRY)')
    return undefined
  }
  if (spec.require !== undefined && action !== 'RETRY') {
    diagnostics.error(
      [...at, 'action'],
      'a rule with `require` holds the request, so its action must be RETRY',
    )
  }
  if (!isActionAllowed(kind, action)) {
    diagnostics.error(
      [...at, 'action'],
      'IGNORE is not a valid answer to a signing request (use REJECT, or IGNORE in tx_approval)',
    )
  }
  if (when === undefined && spec.when !== undefined) return undefined
  return { id: spec.id, match, when, action, reason: spec.reason ?? `rule ${spec.id}`, require }
}

function compileQuorum(
  spec: NonNullable<RuleSpec['require']>,
  at: Path,
  diagnostics: Diagnostics,
): QuorumRequirement {
  const approvers = [...new Set(spec.approvers)]
  if (approvers.length !== spec.approvers.length)
    diagnostics.error([...at, 'approvers'], 'an approver is listed twice')
  if (spec.quorum > approvers.length) {
    diagnostics.error(
      [...at, 'quorum'],
      `quorum ${spec.quorum} cannot be reached by ${approvers.length} approver(s)`,
    )
  }
  const ttlMs = parseDuration(spec.ttl)
  if (ttlMs > MAX_HOLD_TTL_MS) {
    diagnostics.error(
      [...at, 'ttl'],
      `ttl ${spec.ttl} is beyond the co-signer's retry window; at most ${formatDuration(MAX_HOLD_TTL_MS)} (use IGNORE on approval requests for longer human workflows)`,
    )
  }
  return { quorum: spec.quorum, approvers, ttlMs }
}

/** For an unknown field, what this section can see: the usual cause is a list or window name typo. */
function unknownNameHint(error: string, env: PolicyEnvironment): string {
  if (!error.includes('No such key')) return ''
  const lists = env.shape.lists.join(', ') || 'none'
  const windows = [...env.shape.windows.keys()].join(', ') || 'none'
  return ` (lists: ${lists}; velocity windows counting this kind: ${windows})`
}

function compileGuard(
  spec: GuardSpec,
  at: Path,
  envs: Readonly<Record<RequestKind, PolicyEnvironment>>,
  diagnostics: Diagnostics,
): CompiledGuard {
  const conditions = new Map<RequestKind, Condition>()
  for (const kind of new Set(spec.kinds ?? DEFAULT_GUARD_KINDS)) {
    const result = compileCondition(envs[kind].env, spec.when, envs[kind].patterns)
    if ('error' in result) {
      diagnostics.error(
        [...at, 'when'],
        `${result.error}${unknownNameHint(result.error, envs[kind])} (checked for ${kind}; narrow the guard with \`kinds\`)`,
      )
    } else {
      conditions.set(kind, result.condition)
    }
  }
  return { id: spec.id, reason: spec.reason ?? `guard ${spec.id}`, conditions }
}

function checkDefaults(file: PolicyFile, diagnostics: Diagnostics): Record<RequestKind, Action> {
  const onError = {} as Record<RequestKind, Action>
  for (const kind of REQUEST_KINDS) {
    const action = file.defaults[kind]
    if (!isActionAllowed(kind, action)) {
      diagnostics.error(['defaults', kind], 'IGNORE is not a valid answer to a signing request')
    } else if (action === 'APPROVE') {
      diagnostics.warning(
        ['defaults', kind],
        `fail-open default: every ${kind} request no rule matches is approved`,
      )
    }
    onError[kind] = file.defaults.on_error?.[kind] ?? 'REJECT'
    if (!isActionAllowed(kind, onError[kind])) {
      diagnostics.error(['defaults', 'on_error', kind], 'IGNORE is not a valid answer to a signing request')
    }
  }
  return onError
}

function ruleIds(file: PolicyFile): [Path, string][] {
  return [
    ...file.guards.map((guard, index): [Path, string] => [['guards', index, 'id'], guard.id]),
    ...REQUEST_KINDS.flatMap((kind) =>
      file[kind].map((rule, index): [Path, string] => [[kind, index, 'id'], rule.id]),
    ),
  ]
}

function checkTimezone(timezone: string, diagnostics: Diagnostics): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone })
  } catch {
    diagnostics.error(
      ['timezone'],
      `unknown time zone "${timezone}" (use an IANA name such as Europe/Zurich)`,
    )
  }
}

/** Parses, validates, type-checks and lints a policy source. Never throws: problems are diagnostics. */
export function compilePolicySource(text: string, options: CompileOptions): CompileResult {
  const source = readPolicySource(text, PolicyFileSchema)
  const { file, diagnostics } = source
  if (file === undefined) return { program: undefined, diagnostics: diagnostics.list }
  const digest = createHash('sha256').update(text)
  checkTimezone(file.timezone, diagnostics)
  checkUniqueIds(ruleIds(file), diagnostics)
  const onError = checkDefaults(file, diagnostics)
  const lists = compileLists(file.lists, options, digest, diagnostics)
  const windows = compileWindows(file.velocity, diagnostics)
  // One Lists class for the policy: its single instance is shared by every evaluation.
  const Lists = class ListsRecord extends CelRecord {}
  const envs = {} as Record<RequestKind, PolicyEnvironment>
  for (const kind of REQUEST_KINDS) {
    const visible = isTxKind(kind) ? windows.filter((window) => window.kinds.includes(kind)) : []
    envs[kind] = celEnvironment(
      kind,
      {
        lists: Object.keys(file.lists),
        windows: new Map(visible.map((window) => [window.id, window.metrics])),
      },
      Lists,
    )
  }
  const guards = file.guards.map((guard, index) => compileGuard(guard, ['guards', index], envs, diagnostics))
  const sections = {} as Record<RequestKind, CompiledRule[]>
  for (const kind of REQUEST_KINDS) {
    const specIndex = new Map<CompiledRule, number>()
    sections[kind] = file[kind].flatMap((rule, index) => {
      const compiled = compileRule(rule, kind, [kind, index], envs[kind], diagnostics)
      if (compiled !== undefined) specIndex.set(compiled, index)
      return compiled === undefined ? [] : [compiled]
    })
    for (const { rule, by } of shadowedRules(sections[kind])) {
      const index = specIndex.get(rule)!
      diagnostics.warning(
        [kind, index],
        `rule "${rule.id}" is never reached: rule "${by.id}" above it always matches first`,
      )
    }
  }
  if (diagnostics.hasErrors) return { program: undefined, diagnostics: diagnostics.list }

  const conditions = [
    ...guards.flatMap((guard) => [...guard.conditions.values()]),
    ...REQUEST_KINDS.flatMap((kind) =>
      sections[kind].flatMap((rule) => (rule.when === undefined ? [] : [rule.when])),
    ),
  ]
  const program: PolicyProgram = {
    version: String(file.version),
    digest: digest.digest('hex'),
    timezone: file.timezone,
    defaults: {
      tx_approval: file.defaults.tx_approval,
      tx_signing: file.defaults.tx_signing,
      config_change: file.defaults.config_change,
    },
    onError,
    lists,
    listsRecord: new Lists(Object.fromEntries([...lists].map(([name, list]) => [name, list.values]))),
    environments: envs,
    windows,
    guards,
    sections,
    usesTime: conditions.some((condition) => condition.reads.some((read) => read.parts[0] === 'time')),
  }
  return { program, diagnostics: diagnostics.list }
}
