/**
 * Planners for the storage contract suites: small, explicit stand-ins for the handler's plan (the storage
 * layer may not import the handler), so each suite states the rule it exercises.
 */
import type {
  Planner,
  RequestFacts,
  Route,
  SettlePlan,
  SettleState,
  VelocitySeries,
  Verdict,
} from '../../src/storage/index.js'

export const POLICY = { policyVersion: '1', policyDigest: 'd'.repeat(64) }

export function facts(requestId: string, digest = `digest-${requestId}`, route: Route = 'tx'): RequestFacts {
  return {
    route,
    requestId,
    payloadDigest: digest,
    kind: route === 'tx' ? 'tx_signing' : 'config_change',
    signerId: 'api-user-1',
    summary: { txId: requestId, source: 'VAULT:0', destination: 'VAULT:1', asset: 'ETH', amount: '1' },
    requestJson: JSON.stringify({ requestId }),
    receivedAt: 1_000,
  }
}

export function verdict(partial: Partial<Verdict> = {}): Verdict {
  return { action: 'APPROVE', reason: null, ruleId: 'r1', trace: {}, ...POLICY, ...partial }
}

/** Records `decide`'s verdict; repeats what is recorded; REJECTs an altered or tampered record. */
export function planner(
  decide: (figures: SettleState['figures']) => Verdict,
  series: VelocitySeries[] = [],
  resolve: (state: SettleState) => SettlePlan = () => ({ type: 'repeat' }),
): Planner & { calls: number } {
  const result = {
    calls: 0,
    series,
    plan(state: SettleState): SettlePlan {
      const { recorded } = state
      if (recorded === undefined) {
        result.calls++
        const chosen = decide(state.figures)
        return {
          type: 'record',
          verdict: chosen,
          reserve: chosen.action === 'APPROVE' || !!chosen.hold,
          audit: {},
        }
      }
      if (!recorded.intact || recorded.payloadDigest !== state.facts.payloadDigest) {
        const outcome = recorded.intact ? 'altered' : 'tampered'
        return {
          type: 'alert',
          outcome,
          answer: { action: 'REJECT', reason: outcome, ruleId: null, policyVersion: '1' },
          audit: { event: outcome === 'altered' ? 'replay-altered' : 'integrity-alert', body: {} },
        }
      }
      return recorded.status === 'held' ? resolve(state) : { type: 'repeat' }
    },
  }
  return result
}

export const fixed = (partial: Partial<Verdict> = {}) => planner(() => verdict(partial))

export const window50k: VelocitySeries = {
  windowId: 'vault_24h',
  groupKey: 'source.id=0',
  windowMs: 86_400_000,
  bucketMs: 300_000,
  amountUsdCents: 100_000,
}

/** Approves while the window stays within 50,000 USD, as a velocity rule would. */
export function limitPlanner(series: VelocitySeries = window50k) {
  return planner(
    ([figures]) =>
      figures!.sumUsdCents + series.amountUsdCents <= 5_000_000
        ? verdict({ ruleId: 'within-limit' })
        : verdict({ action: 'REJECT', reason: 'over 50,000 USD / 24h', ruleId: 'limit' }),
    [series],
  )
}
