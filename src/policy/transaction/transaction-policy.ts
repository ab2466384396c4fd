import { createHash } from 'node:crypto'
import { registerVelocity } from '../cel-environment.js'
import { compileWindows } from '../compile-velocity.js'
import { prepareDecision, type PreparedDecision } from '../decide.js'
import {
  baseEnvironment,
  CelRecord,
  checkUniqueIds,
  compileLists,
  compileMatch,
  compileWhen,
  ConditionRunner,
  EvaluationFailure,
  readPolicySource,
  shadowedRules,
  summaryOf,
  type CompiledList,
  type ConditionTrace,
  type Diagnostics,
  type ListFileReader,
  type Path,
  type PatternCache,
  type PolicyDiagnostic,
  type RuleShape,
} from '../engine/index.js'
import { resolveHold, type HoldResolution, type Vote } from '../resolve-hold.js'
import type { VelocityTrace } from '../trace.js'
import {
  probeOf,
  windowFigures,
  type VelocityProbe,
  type VelocitySnapshot,
  type VelocityWindow,
} from '../velocity.js'
import { checkExchangeSigners, expandMatch, expandPrincipals } from './principals.js'
import {
  TRANSACTION_FIELDS,
  transactionFacts,
  transactionUsdCents,
  TxDestRecord,
  TxSourceRecord,
  type TransactionRequest,
} from './request.js'
import {
  TransactionPolicyFileSchema,
  type TransactionPolicyFile,
  type TransactionRuleSpec,
} from './schema.js'

/**
 * The hub's transaction policy: the second instance of the policy engine (the callback policy is the
 * first). Same YAML diagnostics, CEL environment base, linear-time `matches()`, lists, match maps,
 * velocity windows and first-match trace; its own actions — ALLOW (optionally to designated signers),
 * BLOCK, REQUIRE_APPROVAL (a quorum of approvers, one rejection denies) — and no rule matched or any
 * evaluation error → BLOCK. Groups of API users are expanded when the policy compiles.
 */
export type TransactionAction = 'ALLOW' | 'BLOCK' | 'REQUIRE_APPROVAL'

export interface Approvers {
  readonly quorum: number
  /** API user ids, groups expanded. */
  readonly of: readonly string[]
}

interface TransactionRule extends RuleShape {
  readonly action: TransactionAction
  readonly reason: string
  readonly approvers: Approvers | undefined
  readonly signers: readonly string[] | undefined
}

export interface TransactionDecision {
  readonly action: TransactionAction
  readonly reason: string
  /** `null` when no rule matched or evaluation failed. */
  readonly ruleId: string | null
  readonly approvers?: Approvers
  /** Designated signers (API user ids, groups expanded) of a transaction let through; absent = any signer. */
  readonly signers?: readonly string[]
  /**
   * What the hub must add to the velocity ledger in the same write that records the transaction (a
   * transaction awaiting approval counts too; release it if it is rejected). Absent on BLOCK.
   */
  readonly reservations?: readonly VelocityProbe[]
  readonly trace: {
    readonly policy: { readonly version: string; readonly digest: string }
    /** Window figures before this transaction, as the conditions read them. */
    readonly velocity: readonly VelocityTrace[]
    readonly rules: readonly ConditionTrace[]
    readonly decided_by: 'rule' | 'default' | 'error'
    readonly error?: { readonly at: string; readonly message: string }
  }
}

export interface TransactionPolicy {
  readonly version: string
  readonly digest: string
  readonly ruleIds: readonly string[]
  /** The velocity series the transaction falls in (figures to read before deciding). Never throws. */
  velocityProbes(request: TransactionRequest): VelocityProbe[]
  /**
   * Never throws: an error blocks, with the error in the trace. `velocity` holds the figures of every
   * probe before this transaction; a missing entry blocks (a store fault never reads as an empty history).
   */
  evaluate(request: TransactionRequest, now: Date, velocity?: VelocitySnapshot): TransactionDecision
  /** Probes, then `decide(figures)`: the same steps as the callback policy's `prepareDecision`. */
  prepare(request: TransactionRequest, now: Date): PreparedDecision<TransactionDecision>
}

export interface TransactionPolicyResult {
  /** Present when there is no error (warnings allowed). */
  readonly policy: TransactionPolicy | undefined
  readonly diagnostics: readonly PolicyDiagnostic[]
}

interface TransactionProgram {
  readonly meta: { readonly version: string; readonly digest: string }
  readonly rules: readonly TransactionRule[]
  readonly lists: ReadonlyMap<string, CompiledList>
  readonly listsRecord: CelRecord
  readonly windows: readonly VelocityWindow[]
  readonly Velocity: typeof CelRecord
  readonly Figures: ReadonlyMap<string, typeof CelRecord>
}

function transactionEnvironment(file: TransactionPolicyFile, windows: readonly VelocityWindow[]) {
  const patterns: PatternCache = new Map()
  const Lists = class TransactionListsRecord extends CelRecord {}
  const Velocity = class TransactionVelocityRecord extends CelRecord {}
  const env = baseEnvironment(patterns)
    .registerType('Source', { ctor: TxSourceRecord, fields: { type: 'string', id: 'string' } })
    .registerType('Dest', {
      ctor: TxDestRecord,
      fields: {
        type: 'string',
        id: 'string',
        address: 'string',
        address_type: 'string',
        whitelisted: 'bool',
      },
    })
    .registerType('Lists', {
      ctor: Lists,
      fields: Object.fromEntries(Object.keys(file.lists).map((name) => [name, 'list<string>'])),
    })
    .registerVariable('operation', 'string')
    .registerVariable('asset', 'string')
    .registerVariable('amount', 'Decimal')
    .registerVariable('amount_usd', 'double')
    .registerVariable('initiator', 'string')
    .registerVariable('note', 'string')
    .registerVariable('source', 'Source')
    .registerVariable('dest', 'Dest')
    .registerVariable('now', 'google.protobuf.Timestamp')
    .registerVariable('lists', 'Lists')
  const shape = { windows: new Map(windows.map((window) => [window.id, window.metrics])) }
  const Figures = registerVelocity(env, shape, Velocity)
  return { env, patterns, Lists, Velocity, Figures }
}

/** What each action may carry: approvers exactly with REQUIRE_APPROVAL, signers never with BLOCK. */
function checkAction(
  spec: TransactionRuleSpec,
  approvers: Approvers | undefined,
  at: Path,
  diagnostics: Diagnostics,
): void {
  if (spec.action === 'REQUIRE_APPROVAL' && spec.approvers === undefined) {
    diagnostics.error([...at, 'action'], 'REQUIRE_APPROVAL needs `approvers: {quorum, of}`')
  }
  if (spec.action !== 'REQUIRE_APPROVAL' && spec.approvers !== undefined) {
    diagnostics.error([...at, 'approvers'], '`approvers` only applies to REQUIRE_APPROVAL')
  }
  if (approvers !== undefined && approvers.quorum > approvers.of.length) {
    diagnostics.error(
      [...at, 'approvers', 'quorum'],
      `quorum ${approvers.quorum} cannot be reached by ${approvers.of.length} approver(s)`,
    )
  }
  if (spec.action === 'BLOCK' && spec.signers !== undefined) {
    diagnostics.error([...at, 'signers'], 'a blocked transaction has no signers')
  }
}

function compileRule(
  spec: TransactionRuleSpec,
  at: Path,
  file: TransactionPolicyFile,
  env: ReturnType<typeof transactionEnvironment>,
  diagnostics: Diagnostics,
): TransactionRule {
  const match = expandMatch(spec.match, file.groups, [...at, 'match'], diagnostics)
  const approvers =
    spec.approvers === undefined
      ? undefined
      : {
          quorum: spec.approvers.quorum,
          of: expandPrincipals(spec.approvers.of, file.groups, [...at, 'approvers', 'of'], diagnostics),
        }
  const signers =
    spec.signers === undefined
      ? undefined
      : expandPrincipals(spec.signers, file.groups, [...at, 'signers'], diagnostics)
  checkAction(spec, approvers, at, diagnostics)
  checkExchangeSigners(match, signers, at, diagnostics)
  const isKnown = (field: string) => (TRANSACTION_FIELDS as readonly string[]).includes(field)
  return {
    id: spec.id,
    match: compileMatch(match, isKnown, at, diagnostics, 'transactions'),
    when:
      spec.when === undefined
        ? undefined
        : compileWhen(env.env, env.patterns, spec.when, [...at, 'when'], diagnostics),
    action: spec.action,
    reason: spec.reason ?? `rule ${spec.id}`,
    approvers,
    signers,
  }
}

/** `velocity.<window>` for the conditions, from the snapshot; each window read is recorded in `trace`. */
function velocityRecord(
  program: TransactionProgram,
  facts: Record<string, unknown>,
  snapshot: VelocitySnapshot,
  trace: VelocityTrace[],
): CelRecord {
  const figures: Record<string, unknown> = {}
  for (const window of program.windows) {
    const { group, figures: entry } = windowFigures(window, facts, snapshot)
    figures[window.id] = new (program.Figures.get(window.id)!)({
      sum_usd: entry.sumUsdCents / 100,
      count: BigInt(entry.count),
    })
    trace.push({
      window: window.id,
      group,
      sum_usd: entry.sumUsdCents / 100,
      count: entry.count,
      adds_usd: (facts.amount_usd_cents as number) / 100,
    })
  }
  return new program.Velocity(figures)
}

function velocityProbes(program: TransactionProgram, request: TransactionRequest): VelocityProbe[] {
  if (program.windows.length === 0) return []
  let facts: Record<string, unknown>
  try {
    facts = transactionFacts(request)
  } catch {
    return [] // evaluate blocks on the same request
  }
  const cents = transactionUsdCents(request)
  return program.windows.flatMap((window) => probeOf(window, facts, cents) ?? [])
}

function decided(rule: TransactionRule, reservations: readonly VelocityProbe[]) {
  return {
    action: rule.action,
    reason: rule.reason,
    ruleId: rule.id,
    ...(rule.approvers === undefined ? {} : { approvers: rule.approvers }),
    ...(rule.signers === undefined ? {} : { signers: rule.signers }),
    ...(rule.action === 'BLOCK' || reservations.length === 0 ? {} : { reservations }),
  }
}

function evaluate(
  program: TransactionProgram,
  request: TransactionRequest,
  now: Date,
  snapshot: VelocitySnapshot,
): TransactionDecision {
  const rules: ConditionTrace[] = []
  const velocity: VelocityTrace[] = []
  const trace = { policy: program.meta, velocity, rules }
  try {
    if (!(now instanceof Date) || Number.isNaN(now.getTime())) {
      throw new EvaluationFailure('request', 'the decision time is not a valid date')
    }
    const facts = transactionFacts(request)
    const context = {
      ...facts,
      now,
      lists: program.listsRecord,
      velocity: velocityRecord(program, facts, snapshot, velocity),
    }
    const runner = new ConditionRunner(context, facts, program.lists, now.getTime())
    const rule = runner.firstMatch(program.rules, rules)
    if (rule === undefined) {
      return {
        action: 'BLOCK',
        reason: 'no rule matched; transactions are blocked by default',
        ruleId: null,
        trace: { ...trace, decided_by: 'default' },
      }
    }
    const reservations = velocityProbes(program, request)
    return { ...decided(rule, reservations), trace: { ...trace, decided_by: 'rule' } }
  } catch (error) {
    const at = error instanceof EvaluationFailure ? error.at : 'request'
    const message = summaryOf(error)
    return {
      action: 'BLOCK',
      reason: `policy evaluation failed in ${at}: ${message}; blocked`,
      ruleId: null,
      trace: { ...trace, decided_by: 'error', error: { at, message } },
    }
  }
}

function createTransactionPolicy(program: TransactionProgram): TransactionPolicy {
  return {
    ...program.meta,
    ruleIds: program.rules.map((rule) => rule.id),
    velocityProbes: (request) => velocityProbes(program, request),
    evaluate: (request, now, velocity = new Map()) => evaluate(program, request, now, velocity),
    prepare: (request, now) =>
      prepareDecision(
        {
          velocityProbes: (input: TransactionRequest) => velocityProbes(program, input),
          evaluate: (input: TransactionRequest, snapshot) => evaluate(program, input, now, snapshot),
        },
        request,
      ),
  }
}

/** Parses, validates and type-checks a transaction policy. Never throws: problems are diagnostics. */
export function compileTransactionPolicy(
  text: string,
  options: { readonly readListFile: ListFileReader; readonly now?: Date },
): TransactionPolicyResult {
  const { file, diagnostics } = readPolicySource(text, TransactionPolicyFileSchema)
  if (file === undefined) return { policy: undefined, diagnostics: diagnostics.list }
  const digest = createHash('sha256').update(text)
  checkUniqueIds(
    file.rules.map((rule, index): [Path, string] => [['rules', index, 'id'], rule.id]),
    diagnostics,
  )
  const lists = compileLists(file.lists, options, digest, diagnostics)
  const windows = compileWindows(file.velocity, diagnostics, TRANSACTION_FIELDS)
  const env = transactionEnvironment(file, windows)
  const rules = file.rules.map((spec, index) => compileRule(spec, ['rules', index], file, env, diagnostics))
  for (const { rule, by } of shadowedRules(rules)) {
    diagnostics.warning(
      ['rules', rules.indexOf(rule)],
      `rule "${rule.id}" is never reached: rule "${by.id}" above it always matches first`,
    )
  }
  if (diagnostics.hasErrors) return { policy: undefined, diagnostics: diagnostics.list }
  const program: TransactionProgram = {
    meta: { version: String(file.version), digest: digest.digest('hex') },
    rules,
    lists,
    listsRecord: new env.Lists(Object.fromEntries([...lists].map(([name, list]) => [name, list.values]))),
    windows,
    Velocity: env.Velocity,
    Figures: env.Figures,
  }
  return { policy: createTransactionPolicy(program), diagnostics: diagnostics.list }
}

/**
 * Where a REQUIRE_APPROVAL transaction stands given its votes: the quorum of distinct listed approvers
 * approves it; one rejection by a listed approver denies it (and wins over a quorum); votes of anyone
 * else are ignored. The same resolution as the callback policy's holds, without a deadline.
 */
export function resolveApproval(approvers: Approvers, votes: readonly Vote[]): HoldResolution {
  const noDeadline = { quorum: approvers.quorum, approvers: approvers.of, ttlMs: Number.POSITIVE_INFINITY }
  return resolveHold(noDeadline, new Date(0), votes, new Date(0))
}
