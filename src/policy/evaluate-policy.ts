import type { Action, ConfigChangeRequest, RequestKind, TxRequest } from '../protocol/index.js'
import { isActionAllowed } from '../protocol/index.js'
import { TimeRecord } from './cel-environment.js'
import { summaryOf } from './engine/condition.js'
import { ConditionRunner, EvaluationFailure, type ConditionTrace } from './engine/first-match.js'
import type { PolicyProgram, QuorumRequirement } from './program.js'
import { amountUsdCents, requestFacts, type RequestFacts } from './request-context.js'
import type { DecisionTrace, VelocityTrace } from './trace.js'
import { probeOf, windowFigures, type VelocityProbe, type VelocitySnapshot } from './velocity.js'
import { zonedTime } from './zoned-time.js'

export interface PolicyInput {
  readonly kind: RequestKind
  /** Already validated by protocol. */
  readonly request: TxRequest | ConfigChangeRequest
  readonly now: Date
}

export interface PolicyDecision {
  readonly action: Action
  /** One-line summary; the handler sends it as rejectionReason (not on APPROVE). */
  readonly reason: string
  /** `null` when a default or an error decided; the guard id when a guard hit. */
  readonly ruleId: string | null
  /** Present iff the matched rule holds the request for humans (the action is then RETRY). */
  readonly require?: QuorumRequirement
  readonly trace: DecisionTrace
}

export interface CompiledPolicy {
  /** The file's `version`. */
  readonly version: string
  /** sha256 hex over the policy source and the list files it loaded. */
  readonly digest: string
  /** Guard and rule ids per section, in order (for coverage reports). */
  readonly ruleIds: Readonly<Record<'guards' | RequestKind, readonly string[]>>
  /**
   * The velocity series this request falls in. Windows whose `group_by` the request cannot fill are left
   * out (and `evaluate` then fails closed). Throws `PolicyEvaluationError` only for a request whose amount
   * cannot be read exactly (USD beyond exact integer cents); the handler must then fail closed.
   */
  velocityProbes(input: PolicyInput): VelocityProbe[]
  /** Never throws: any error yields the kind's `on_error` action with the error in the trace. */
  evaluate(input: PolicyInput, velocity: VelocitySnapshot): PolicyDecision
}

class Evaluation extends ConditionRunner {
  readonly program: PolicyProgram
  readonly input: PolicyInput
  readonly velocity: VelocityTrace[] = []
  readonly guards: ConditionTrace[] = []
  readonly rules: ConditionTrace[] = []

  constructor(program: PolicyProgram, input: PolicyInput, facts: RequestFacts) {
    super({ ...facts, now: input.now, lists: program.listsRecord }, facts, program.lists, input.now.getTime())
    this.program = program
    this.input = input
    if (program.usesTime) this.context.time = new TimeRecord({ ...zonedTime(input.now, program.timezone) })
  }

  fillVelocity(snapshot: VelocitySnapshot): void {
    const { Velocity, Figures } = this.program.environments[this.input.kind]
    const figures: Record<string, unknown> = {}
    for (const window of this.program.windows) {
      if (!window.kinds.includes(this.input.kind)) continue
      const { group, figures: entry } = windowFigures(window, this.facts, snapshot)
      const Record = Figures.get(window.id)!
      figures[window.id] = new Record({ sum_usd: entry.sumUsdCents / 100, count: BigInt(entry.count) })
      this.velocity.push({
        window: window.id,
        group,
        sum_usd: entry.sumUsdCents / 100,
        count: entry.count,
        adds_usd: (this.facts.amount_usd_cents as number) / 100,
      })
    }
    this.context.velocity = new Velocity(figures)
  }
}

function decide(
  program: PolicyProgram,
  input: PolicyInput,
  snapshot: VelocitySnapshot,
  state: { evaluation?: Evaluation },
): Omit<PolicyDecision, 'trace'> & { readonly decidedBy: DecisionTrace['decided_by'] } {
  if (!(input.now instanceof Date) || Number.isNaN(input.now.getTime())) {
    throw new EvaluationFailure('request', 'the decision time is not a valid date')
  }
  const evaluation = new Evaluation(program, input, requestFacts(input.kind, input.request))
  state.evaluation = evaluation
  evaluation.fillVelocity(snapshot)

  const hits: { id: string; reason: string }[] = []
  for (const guard of program.guards) {
    const condition = guard.conditions.get(input.kind)
    if (condition === undefined) continue
    const { result, values } = evaluation.test(condition, `guard ${guard.id}`)
    evaluation.guards.push({ id: guard.id, result, when: condition.source, values })
    if (result) hits.push(guard)
  }
  const hit = hits[0]
  if (hit !== undefined) {
    return { action: 'REJECT', reason: `guard ${hit.id}: ${hit.reason}`, ruleId: hit.id, decidedBy: 'guard' }
  }

  const rule = evaluation.firstMatch(program.sections[input.kind], evaluation.rules)
  if (rule !== undefined) {
    return {
      action: rule.action,
      reason: rule.reason,
      ruleId: rule.id,
      decidedBy: 'rule',
      ...(rule.require === undefined ? {} : { require: rule.require }),
    }
  }
  const action = program.defaults[input.kind]
  return {
    action,
    reason: `no rule matched; default ${action} for ${input.kind}`,
    ruleId: null,
    decidedBy: 'default',
  }
}

function evaluate(program: PolicyProgram, input: PolicyInput, snapshot: VelocitySnapshot): PolicyDecision {
  const state: { evaluation?: Evaluation } = {}
  // Read defensively: evaluate never throws, even for an input that is not a PolicyInput at all.
  const kind = input?.kind
  const now = input?.now
  const base = {
    policy: { version: program.version, digest: program.digest },
    kind,
    requestId: typeof input?.request?.requestId === 'string' ? input.request.requestId : '',
    now: now instanceof Date && !Number.isNaN(now.getTime()) ? now.toISOString() : 'invalid',
  }
  const parts = () => ({
    velocity: state.evaluation?.velocity ?? [],
    guards: state.evaluation?.guards ?? [],
    rules: state.evaluation?.rules ?? [],
  })
  try {
    const { decidedBy, ...decision } = decide(program, input, snapshot, state)
    // Belt and braces: compile refuses IGNORE for signing, but an answer the protocol forbids must never leave.
    if (!isActionAllowed(kind, decision.action)) {
      throw new EvaluationFailure('decision', `${decision.action} is not allowed for ${kind}`)
    }
    return { ...decision, trace: { ...base, ...parts(), decided_by: decidedBy, action: decision.action } }
  } catch (error) {
    const action = program.onError[kind] ?? 'REJECT'
    const at = error instanceof EvaluationFailure ? error.at : 'request'
    const message = summaryOf(error)
    return {
      action,
      reason: `policy evaluation failed in ${at}: ${message}; failing closed`,
      ruleId: null,
      trace: { ...base, ...parts(), decided_by: 'error', action, error: { at, message } },
    }
  }
}

function velocityProbes(program: PolicyProgram, input: PolicyInput): VelocityProbe[] {
  if (input.kind === 'config_change') return []
  const windows = program.windows.filter((window) => window.kinds.includes(input.kind))
  if (windows.length === 0) return []
  const facts = requestFacts(input.kind, input.request)
  const cents = amountUsdCents(input.request as TxRequest)
  return windows.flatMap((window) => {
    const probe = probeOf(window, facts, cents)
    return probe === undefined ? [] : [probe]
  })
}

/** Wraps a compiled program in the `CompiledPolicy` interface the handler and the tooling use. */
export function createCompiledPolicy(program: PolicyProgram): CompiledPolicy {
  return {
    version: program.version,
    digest: program.digest,
    ruleIds: {
      guards: program.guards.map((guard) => guard.id),
      tx_approval: program.sections.tx_approval.map((rule) => rule.id),
      tx_signing: program.sections.tx_signing.map((rule) => rule.id),
      config_change: program.sections.config_change.map((rule) => rule.id),
    },
    velocityProbes: (input) => velocityProbes(program, input),
    evaluate: (input, snapshot) => evaluate(program, input, snapshot),
  }
}
