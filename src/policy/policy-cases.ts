import { z } from 'zod'
import {
  parseConfigChangeRequest,
  parseTxRequest,
  txRequestKind,
  type ConfigChangeRequest,
  type RequestKind,
  type TxRequest,
} from '../protocol/index.js'
import { DURATION_PATTERN, parseDuration } from '../core/index.js'
import { PolicyCasesInvalid } from './errors.js'
import type { CompiledPolicy, PolicyDecision } from './evaluate-policy.js'
import { resolveHold, type HoldResolution } from './resolve-hold.js'
import { prepareDecision } from './decide.js'

/**
 * `policy test` cases: a request (inline or a fixture), the time, optional velocity state and votes, and
 * the expected outcome. `schemas/policy-test.schema.json` is generated from `PolicyCasesSchema`.
 */

const Instant = z.iso.datetime({ offset: true }).describe('ISO 8601 instant, e.g. 2026-11-21T10:00:00Z')
const ActionName = z.enum(['APPROVE', 'REJECT', 'RETRY', 'IGNORE'])

export const PolicyCaseSchema = z.strictObject({
  name: z.string().min(1),
  fixture: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Fixture name (looked up in the fixtures directory) or a JSON file path relative to the cases file',
    ),
  request: z.record(z.string(), z.unknown()).optional().describe('Inline request payload'),
  patch: z
    .record(z.string(), z.unknown())
    .optional()
    .describe(
      'JSON Merge Patch over the fixture or request: objects merge, null removes, anything else replaces',
    ),
  kind: z.enum(['tx_approval', 'tx_signing', 'config_change']).optional().describe('Derived when absent'),
  now: Instant.optional(),
  velocity: z
    .record(z.string(), z.strictObject({ sum_usd: z.number().nonnegative(), count: z.int().nonnegative() }))
    .optional()
    .describe('Window figures before this request, by window id; unnamed windows start empty'),
  votes: z
    .array(
      z.strictObject({
        approver: z.string().min(1),
        vote: z.enum(['approve', 'reject']),
        reason: z.string().optional(),
      }),
    )
    .optional()
    .describe('Votes on the hold, cast when it began'),
  held_for: z
    .string()
    .regex(DURATION_PATTERN)
    .optional()
    .describe('Time since the hold began (default 0), to test expiry'),
  expect: z
    .strictObject({
      action: ActionName.optional().describe('The answer after votes are applied to a hold'),
      rule: z
        .string()
        .nullable()
        .optional()
        .describe('Deciding rule or guard id; null for a default or an error'),
      decided_by: z.enum(['guard', 'rule', 'default', 'error']).optional(),
      hold: z.enum(['pending', 'approved', 'rejected']).optional(),
    })
    .refine(
      (expect) => Object.keys(expect).length > 0,
      'expect at least one of action, rule, decided_by, hold',
    ),
})

export const PolicyCasesSchema = z.strictObject({
  $schema: z.string().optional(),
  fixtures: z.string().optional().describe('Fixtures directory, relative to the cases file'),
  now: Instant.optional().describe('Default time of every case'),
  cases: z.array(PolicyCaseSchema).min(1),
})

export type PolicyCaseSpec = z.infer<typeof PolicyCaseSchema>
export type PolicyCasesFile = z.infer<typeof PolicyCasesSchema>

/** A case with its payload resolved (the loader reads fixtures). */
export interface PolicyCase {
  readonly spec: PolicyCaseSpec
  readonly payload: Record<string, unknown>
  /** Where the payload came from: `config` when it is a config-change fixture. */
  readonly family: 'tx' | 'config' | undefined
  readonly now: string | undefined
}

export interface CaseOutcome {
  readonly name: string
  readonly passed: boolean
  /** `expected X, got Y` lines for a failure. */
  readonly problems: readonly string[]
  readonly action: string
  readonly ruleId: string | null
  readonly hold: HoldResolution['state'] | undefined
  readonly decision: PolicyDecision
}

export interface CasesReport {
  readonly outcomes: readonly CaseOutcome[]
  /** Guard and rule ids no case was decided by. */
  readonly unreached: readonly string[]
  readonly total: number
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** JSON Merge Patch (RFC 7396): objects merge key by key, `null` removes a key, anything else replaces. */
export function mergePatch(
  base: Record<string, unknown>,
  patch: Record<string, unknown>,
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(patch)) {
    const current = merged[key]
    if (value === null) delete merged[key]
    else merged[key] = isPlainObject(current) && isPlainObject(value) ? mergePatch(current, value) : value
  }
  return merged
}

function validRequest(testCase: PolicyCase): { kind: RequestKind; request: TxRequest | ConfigChangeRequest } {
  const { spec, payload } = testCase
  const isConfig =
    spec.kind === 'config_change' ||
    (spec.kind === undefined && (testCase.family === 'config' || !('destinations' in payload)))
  try {
    if (isConfig) return { kind: 'config_change', request: parseConfigChangeRequest(payload) }
    const request = parseTxRequest(payload)
    return { kind: spec.kind ?? txRequestKind(request), request }
  } catch (error) {
    throw new PolicyCasesInvalid(
      `case "${spec.name}": ${error instanceof Error ? error.message : String(error)}`,
    )
  }
}

/** What a case's request gets: the decision, and the answer after its votes are applied to a hold. */
export interface CaseDecision {
  readonly decision: PolicyDecision
  readonly action: string
  readonly hold: HoldResolution | undefined
}

/** Evaluates one case (also used by `policy explain`). Throws `PolicyCasesInvalid` for unusable input. */
export function decideCase(policy: CompiledPolicy, testCase: PolicyCase): CaseDecision {
  const { spec } = testCase
  const nowText = spec.now ?? testCase.now
  if (nowText === undefined)
    throw new PolicyCasesInvalid(`case "${spec.name}": give \`now\` (or a file-level \`now\`)`)
  const now = new Date(nowText)
  const input = { ...validRequest(testCase), now }
  const prepared = prepareDecision(policy, input)
  for (const windowId of Object.keys(spec.velocity ?? {})) {
    if (!prepared.probes.some((probe) => probe.windowId === windowId)) {
      throw new PolicyCasesInvalid(
        `case "${spec.name}": velocity window "${windowId}" does not apply to this request`,
      )
    }
  }
  const decision = prepared.decide(
    prepared.probes.map((probe) => {
      const state = spec.velocity?.[probe.windowId]
      return { sumUsdCents: Math.round((state?.sum_usd ?? 0) * 100), count: state?.count ?? 0 }
    }),
  )
  if (decision.require === undefined) return { decision, action: decision.action, hold: undefined }
  const heldAt = new Date(now.getTime() - (spec.held_for === undefined ? 0 : parseDuration(spec.held_for)))
  const votes = (spec.votes ?? []).map(({ reason, ...vote }) => ({
    ...vote,
    ...(reason === undefined ? {} : { reason }),
    at: heldAt,
  }))
  const hold = resolveHold(decision.require, heldAt, votes, now)
  const action = hold.state === 'approved' ? 'APPROVE' : hold.state === 'rejected' ? 'REJECT' : 'RETRY'
  return { decision, action, hold }
}

function outcomeOf(policy: CompiledPolicy, testCase: PolicyCase): CaseOutcome {
  const { spec } = testCase
  const { decision, action, hold } = decideCase(policy, testCase)
  const problems: string[] = []
  const expect = spec.expect
  if (expect.action !== undefined && expect.action !== action)
    problems.push(`action: expected ${expect.action}, got ${action}`)
  if (expect.rule !== undefined && expect.rule !== decision.ruleId) {
    problems.push(`rule: expected ${expect.rule ?? 'none'}, got ${decision.ruleId ?? 'none'}`)
  }
  if (expect.decided_by !== undefined && expect.decided_by !== decision.trace.decided_by) {
    problems.push(`decided_by: expected ${expect.decided_by}, got ${decision.trace.decided_by}`)
  }
  if (expect.hold !== undefined && expect.hold !== hold?.state) {
    problems.push(`hold: expected ${expect.hold}, got ${hold?.state ?? 'no hold'}`)
  }
  if (decision.trace.error !== undefined && expect.decided_by !== 'error') {
    problems.push(`evaluation error in ${decision.trace.error.at}: ${decision.trace.error.message}`)
  }
  return {
    name: spec.name,
    passed: problems.length === 0,
    problems,
    action,
    ruleId: decision.ruleId,
    hold: hold?.state,
    decision,
  }
}

/** Runs every case against `policy` and reports pass/fail and the rules no case reached. */
export function runPolicyCases(policy: CompiledPolicy, cases: readonly PolicyCase[]): CasesReport {
  const outcomes = cases.map((testCase) => outcomeOf(policy, testCase))
  const reached = new Set(outcomes.map((outcome) => outcome.ruleId))
  const all = [
    ...policy.ruleIds.guards,
    ...policy.ruleIds.tx_approval,
    ...policy.ruleIds.tx_signing,
    ...policy.ruleIds.config_change,
  ]
  return { outcomes, unreached: all.filter((id) => !reached.has(id)), total: all.length }
}
