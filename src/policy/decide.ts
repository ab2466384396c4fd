import type { CompiledPolicy, PolicyDecision, PolicyInput } from './evaluate-policy.js'
import { velocityKey, type VelocityFigures, type VelocityProbe, type VelocitySnapshot } from './velocity.js'

/**
 * "Read the velocity probes → snapshot → evaluate", written once. The handler (figures read by the store
 * under its write lock), `policy test` (figures from the case), `policy replay` (figures recorded with the
 * decision), the tests and the benchmark all decide through here.
 */
export interface PreparedDecision<D = PolicyDecision> {
  /** The velocity series the request falls in: what the caller must read figures for. */
  readonly probes: readonly VelocityProbe[]
  /** Decides with `figures[i]` as the figures of `probes[i]` (before this request). Never throws. */
  decide(figures: readonly VelocityFigures[]): D
}

/** What any policy instance with velocity windows offers (the callback policy, the transaction policy). */
export interface VelocityDecider<I, D> {
  velocityProbes(input: I): readonly VelocityProbe[]
  evaluate(input: I, snapshot: VelocitySnapshot): D
}

export const ZERO_FIGURES: VelocityFigures = Object.freeze({ sumUsdCents: 0, count: 0 })

/**
 * Reads the probes of `input`. Throws `PolicyEvaluationError` for a request whose amount cannot be read
 * exactly (the caller must fail closed), as `velocityProbes` does.
 */
export function prepareDecision<I, D>(policy: VelocityDecider<I, D>, input: I): PreparedDecision<D> {
  const probes = policy.velocityProbes(input)
  return {
    probes,
    decide(figures) {
      // A missing entry stays missing: evaluation then fails closed instead of reading an empty history.
      const snapshot = new Map<string, VelocityFigures>()
      probes.forEach((probe, index) => {
        const entry = figures[index]
        if (entry !== undefined) snapshot.set(velocityKey(probe.windowId, probe.groupKey), entry)
      })
      return policy.evaluate(input, snapshot)
    },
  }
}

/** Prepares and decides in one step, with the figures `figuresOf` gives each probe (default: none yet). */
export function decideNow(
  policy: CompiledPolicy,
  input: PolicyInput,
  figuresOf: (probe: VelocityProbe) => VelocityFigures = () => ZERO_FIGURES,
): PolicyDecision {
  const prepared = prepareDecision(policy, input)
  return prepared.decide(prepared.probes.map(figuresOf))
}
