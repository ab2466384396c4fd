import { createHash } from 'node:crypto'
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
import {
  TRANSACTION_FIELDS,
  transactionFacts,
  TxDestRecord,
  TxSourceRecord,
  type TransactionRequest,
} from './request.js'
import { TransactionPolicyFileSchema, type TransactionRuleSpec } from './schema.js'

/**
 * The hub's transaction policy: the second instance of the policy engine (the callback policy is the
 * first). Same YAML diagnostics, CEL environment base, linear-time `matches()`, lists, match maps and
 * first-match trace; its own actions — ALLOW (optionally to designated signers), BLOCK, REQUIRE_APPROVAL
 * (a quorum of approvers) — and no rule matched or any evaluation error → BLOCK.
 */
export type TransactionAction = 'ALLOW' | 'BLOCK' | 'REQUIRE_APPROVAL'

interface TransactionRule extends RuleShape {
  readonly action: TransactionAction
  readonly reason: string
  readonly approvers: { readonly quorum: number; readonly of: readonly string[] } | undefined
  readonly signers: readonly string[] | undefined
}

export interface TransactionDecision {
  readonly action: TransactionAction
  readonly reason: string
  /** `null` when no rule matched or evaluation failed. */
  readonly ruleId: string | null
  readonly approvers?: { readonly quorum: number; readonly of: readonly string[] }
  /** Designated signers of an allowed transaction; absent = any signer. */
  readonly signers?: readonly string[]
  readonly trace: {
    readonly policy: { readonly version: string; readonly digest: string }
    readonly rules: readonly ConditionTrace[]
    readonly decided_by: 'rule' | 'default' | 'error'
    readonly error?: { readonly at: string; readonly message: string }
  }
}

export interface TransactionPolicy {
  readonly version: string
  readonly digest: string
  /** Never throws: an error blocks, with the error in the trace. */
  evaluate(request: TransactionRequest, now: Date): TransactionDecision
}

export interface TransactionPolicyResult {
  /** Present when there is no error (warnings allowed). */
  readonly policy: TransactionPolicy | undefined
  readonly diagnostics: readonly PolicyDiagnostic[]
}

function transactionEnvironment(listNames: readonly string[], Lists: typeof CelRecord) {
  const patterns: PatternCache = new Map()
  const env = baseEnvironment(patterns)
    .registerType('Source', { ctor: TxSourceRecord, fields: { type: 'string', id: 'string' } })
    .registerType('Dest', { ctor: TxDestRecord, fields: { type: 'string', id: 'string', address: 'string' } })
    .registerType('Lists', {
      ctor: Lists,
      fields: Object.fromEntries(listNames.map((name) => [name, 'list<string>'])),
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
  return { env, patterns }
}

/** What each action may carry: approvers exactly with REQUIRE_APPROVAL, signers never with BLOCK. */
function checkAction(spec: TransactionRuleSpec, at: Path, diagnostics: Diagnostics): void {
  if (spec.action === 'REQUIRE_APPROVAL' && spec.approvers === undefined) {
    diagnostics.error([...at, 'action'], 'REQUIRE_APPROVAL needs `approvers: {quorum, of}`')
  }
  if (spec.action !== 'REQUIRE_APPROVAL' && spec.approvers !== undefined) {
    diagnostics.error([...at, 'approvers'], '`approvers` only applies to REQUIRE_APPROVAL')
  }
  if (spec.approvers !== undefined && spec.approvers.quorum > new Set(spec.approvers.of).size) {
    diagnostics.error(
      [...at, 'approvers', 'quorum'],
      `quorum ${spec.approvers.quorum} cannot be reached by ${new Set(spec.approvers.of).size} approver(s)`,
    )
  }
  if (spec.action === 'BLOCK' && spec.signers !== undefined) {
    diagnostics.error([...at, 'signers'], 'a blocked transaction has no signers')
  }
}

function evaluate(
  meta: { readonly version: string; readonly digest: string },
  rules: readonly TransactionRule[],
  lists: ReadonlyMap<string, CompiledList>,
  listsRecord: CelRecord,
  request: TransactionRequest,
  now: Date,
): TransactionDecision {
  const trace: ConditionTrace[] = []
  try {
    const facts = transactionFacts(request)
    const runner = new ConditionRunner({ ...facts, now, lists: listsRecord }, facts, lists, now.getTime())
    const rule = runner.firstMatch(rules, trace)
    if (rule === undefined) {
      return {
        action: 'BLOCK',
        reason: 'no rule matched; transactions are blocked by default',
        ruleId: null,
        trace: { policy: meta, rules: trace, decided_by: 'default' },
      }
    }
    return {
      action: rule.action,
      reason: rule.reason,
      ruleId: rule.id,
      ...(rule.approvers === undefined ? {} : { approvers: rule.approvers }),
      ...(rule.signers === undefined ? {} : { signers: rule.signers }),
      trace: { policy: meta, rules: trace, decided_by: 'rule' },
    }
  } catch (error) {
    const at = error instanceof EvaluationFailure ? error.at : 'request'
    const message = summaryOf(error)
    return {
      action: 'BLOCK',
      reason: `policy evaluation failed in ${at}: ${message}; blocked`,
      ruleId: null,
      trace: { policy: meta, rules: trace, decided_by: 'error', error: { at, message } },
    }
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
  const Lists = class TransactionListsRecord extends CelRecord {}
  const { env, patterns } = transactionEnvironment(Object.keys(file.lists), Lists)
  const isKnown = (field: string) => (TRANSACTION_FIELDS as readonly string[]).includes(field)
  const rules = file.rules.map((spec, index): TransactionRule => {
    const at: Path = ['rules', index]
    checkAction(spec, at, diagnostics)
    return {
      id: spec.id,
      match: compileMatch(spec.match, isKnown, at, diagnostics, 'transactions'),
      when:
        spec.when === undefined
          ? undefined
          : compileWhen(env, patterns, spec.when, [...at, 'when'], diagnostics),
      action: spec.action,
      reason: spec.reason ?? `rule ${spec.id}`,
      approvers: spec.approvers,
      signers: spec.signers,
    }
  })
  for (const { rule, by } of shadowedRules(rules)) {
    diagnostics.warning(
      ['rules', rules.indexOf(rule)],
      `rule "${rule.id}" is never reached: rule "${by.id}" above it always matches first`,
    )
  }
  if (diagnostics.hasErrors) return { policy: undefined, diagnostics: diagnostics.list }
  const meta = { version: String(file.version), digest: digest.digest('hex') }
  const listsRecord = new Lists(Object.fromEntries([...lists].map(([name, list]) => [name, list.values])))
  return {
    policy: {
      ...meta,
      evaluate: (request, now) => evaluate(meta, rules, lists, listsRecord, request, now),
    },
    diagnostics: diagnostics.list,
  }
}
