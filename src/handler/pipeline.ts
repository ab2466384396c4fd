import type { Logger } from 'pino'
import { CountersignError, sha256Hex, type Clock, type Timer } from '../core/index.js'
import {
  Action,
  PayloadInvalid,
  RequestKind,
  extractCompactToken,
  parseCallbackRequest,
  readRequestId,
  recordableJson,
  signCallbackResponse,
  txRequestKind,
  verifyRs256,
  type AuthMode,
  type CallbackRequest,
  type CallbackResponse,
  type CallbackRoute,
} from '../protocol/index.js'
import { amountUsdCents, type CompiledPolicy } from '../policy/index.js'
import {
  RecordRefused,
  type HoldRequirement,
  type Planner,
  type RequestFacts,
  type Settlement,
  type Store,
} from '../storage/index.js'
import type { ApiUser, HandlerConfig } from './config.js'
import { policyPlanner, rejectingPlanner } from './decider.js'
import type { HoldAnnouncer, HoldCreatedEvent } from './hold-webhook.js'
import type { HandlerMetrics } from './metrics.js'

/**
 * The request pipeline of ../shared/DESIGN.md, one small function per step; `handleCallback` only composes
 * them. Fail closed throughout: nothing but a recorded policy decision ever yields APPROVE.
 */
export interface PipelineDeps {
  readonly config: HandlerConfig
  readonly policy: () => CompiledPolicy
  readonly store: Store
  readonly log: Logger
  readonly metrics: HandlerMetrics
  readonly clock: Clock
  /** Announces new holds (the configured webhooks); absent when none is configured. */
  readonly holds?: HoldAnnouncer
}

export interface Reply {
  readonly status: number
  readonly contentType?: string
  readonly body: string
}

const UNAUTHORIZED: Reply = { status: 401, body: '' }

class AuthenticationFailed extends Error {
  readonly reason: string
  readonly detail: string

  constructor(reason: string, detail: string) {
    super(detail)
    this.reason = reason
    this.detail = detail
  }
}

/** Step 2: JWT mode verifies the co-signer's RS256 signature; certificate mode trusts the pinned TLS channel. */
async function authenticate(deps: PipelineDeps, mode: AuthMode, body: string): Promise<unknown> {
  if (mode === 'certificate') {
    try {
      return JSON.parse(body) as unknown
    } catch {
      throw new AuthenticationFailed('malformed', 'certificate-mode body is not JSON')
    }
  }
  try {
    const { payload } = await verifyRs256(
      extractCompactToken(body),
      deps.config.cosignerKeys.map((cosigner) => cosigner.key),
    )
    return payload
  } catch (error) {
    if (error instanceof CountersignError) throw new AuthenticationFailed(error.code, error.message)
    throw error
  }
}

/** The API user whose handler key answers: the one named by `signerId`, else the route's default user. */
function selectApiUser(config: HandlerConfig, mode: AuthMode, payload: unknown): ApiUser {
  const signerId = (payload as { signerId?: unknown } | null)?.signerId
  const user = typeof signerId === 'string' ? config.apiUsers.get(signerId) : config.defaultUsers[mode]
  if (user === undefined) {
    throw new AuthenticationFailed(
      'unknown-api-user',
      typeof signerId === 'string'
        ? `no API user is configured for signerId ${signerId}`
        : `no default API user for ${mode} mode and the request has no signerId`,
    )
  }
  if (user.authMode !== mode)
    throw new AuthenticationFailed(
      'wrong-auth-mode',
      `API user ${user.signerId} is configured for ${user.authMode} mode, not ${mode}`,
    )
  return user
}

function kindOf(parsed: CallbackRequest): RequestKind {
  return parsed.route === 'tx' ? txRequestKind(parsed.request) : RequestKind.configChange
}

function summarize(parsed: CallbackRequest): Record<string, string | null> {
  if (parsed.route === 'config') return { type: parsed.request.type }
  const request = parsed.request
  return {
    txId: request.txId,
    operation: request.operation,
    source: `${request.sourceType}:${request.sourceId}`,
    destination: `${request.destType}:${request.destId || request.destAddress}`,
    asset: request.asset,
    amount: request.amountStr,
  }
}

interface CreatedHold {
  readonly hold: HoldRequirement
  readonly heldAt: Date
}

/** The planner, noting the hold its plan records, if any: the settlement alone does not say a hold began. */
function notingHolds(planner: Planner): { planner: Planner; created: () => CreatedHold | undefined } {
  let created: CreatedHold | undefined
  return {
    planner: {
      series: planner.series,
      plan(state) {
        const plan = planner.plan(state)
        const hold = plan.type === 'record' ? plan.verdict.hold : undefined
        created = hold ? { hold, heldAt: state.now } : undefined
        return plan
      },
    },
    created: () => created,
  }
}

/** The `hold.created` event of a request this call recorded as held. */
function holdCreatedEvent(
  facts: RequestFacts,
  amountUsd: number | null,
  settlement: Settlement,
  { hold, heldAt }: CreatedHold,
): HoldCreatedEvent {
  const field = (name: string) => facts.summary[name] ?? null
  return {
    type: 'hold.created',
    requestId: facts.requestId,
    route: facts.route,
    kind: facts.kind,
    amountUsd,
    asset: field('asset'),
    source: field('source'),
    destination: field('destination'),
    ruleId: settlement.ruleId,
    reason: settlement.reason,
    quorum: hold.quorum,
    approvers: hold.approvers,
    expiresAt: new Date(heldAt.getTime() + hold.ttlMs).toISOString(),
    createdAt: heldAt.toISOString(),
  }
}

/** Steps 3–6 for a readable payload: validate, then decide-and-record (idempotent) under the deadline. */
async function decideAndRecord(
  deps: PipelineDeps,
  route: CallbackRoute,
  payload: unknown,
  requestId: string,
  receivedAt: number,
) {
  const recordable = recordableJson(payload, requestId)
  if ('problem' in recordable) return { settlement: refusedBeforeStore(recordable.problem) }
  // Serialised once: the digest that recognises a retry, and the text recorded for `policy replay`.
  const requestJson = recordable.canonical
  const policy = deps.policy()
  let facts: RequestFacts
  let planner: Planner
  let amountUsd: number | null = null
  try {
    const parsed = parseCallbackRequest(route, payload)
    const kind = kindOf(parsed)
    if (parsed.route === 'tx') amountUsd = usdOf(parsed.request)
    facts = baseFacts(route, payload, requestJson, requestId, kind, receivedAt, summarize(parsed))
    try {
      planner = policyPlanner(policy, { kind, request: parsed.request, now: new Date(receivedAt) })
    } catch (error) {
      planner = rejectingPlanner(
        `policy could not read the request: ${error instanceof Error ? error.message : 'unknown error'}`,
        policy,
      )
    }
  } catch (error) {
    if (!(error instanceof PayloadInvalid)) throw error
    // A malformed request is recorded too, so its requestId can never be decided differently later.
    const kind = route === 'tx' ? RequestKind.txSigning : RequestKind.configChange
    facts = baseFacts(route, payload, requestJson, requestId, kind, receivedAt, {})
    planner = rejectingPlanner(error.message, policy)
  }
  const noted = notingHolds(planner)
  const settlement = await deps.store.settle(facts, noted.planner)
  const created = settlement.outcome === 'decided' ? noted.created() : undefined
  return {
    facts,
    amountUsd,
    settlement,
    holdCreated: created && holdCreatedEvent(facts, amountUsd, settlement, created),
  }
}

/** The USD amount the policy decides on, for the decision log line; null when it cannot be counted exactly. */
function usdOf(request: Parameters<typeof amountUsdCents>[0]): number | null {
  try {
    return amountUsdCents(request) / 100
  } catch {
    return null
  }
}

/**
 * A request that must never reach the store (see `recordableJson`): a database would store its text
 * unfaithfully, or fail the write and the whole batch with it. REJECT, not recorded; every retry is refused
 * the same way because the check depends on the payload alone.
 */
function refusedBeforeStore(problem: string) {
  return {
    outcome: 'malformed',
    action: Action.reject,
    reason: `malformed request: ${problem}`,
    ruleId: null,
  } as const
}

function baseFacts(
  route: CallbackRoute,
  payload: unknown,
  requestJson: string,
  requestId: string,
  kind: RequestKind,
  receivedAt: number,
  summary: Record<string, string | null>,
): RequestFacts {
  const signerId = (payload as { signerId?: unknown }).signerId
  return {
    route,
    requestId,
    payloadDigest: sha256Hex(requestJson),
    kind,
    signerId: typeof signerId === 'string' ? signerId : null,
    summary,
    requestJson,
    receivedAt,
  }
}

function withDeadline<T>(clock: Clock, work: Promise<T>, ms: number): Promise<T | 'deadline'> {
  let timer: Timer | undefined
  const deadline = new Promise<'deadline'>((resolve) => {
    timer = clock.setTimer(ms, () => resolve('deadline'))
  })
  return Promise.race([work, deadline]).finally(() => timer?.cancel())
}

/** Step 7: the signed JWT (JWT mode) or plain JSON (certificate mode). */
async function answer(
  user: ApiUser,
  mode: AuthMode,
  response: CallbackResponse,
  now: number,
): Promise<Reply> {
  if (mode === 'certificate')
    return { status: 200, contentType: 'application/json', body: JSON.stringify(response) }
  return {
    status: 200,
    contentType: 'text/plain; charset=utf-8',
    body: await signCallbackResponse(response, user.handlerKey!, now),
  }
}

function responseOf(requestId: string, action: Action, reason: string | null): CallbackResponse {
  return action === Action.reject
    ? { action, requestId, rejectionReason: reason ?? 'rejected by policy' }
    : { action, requestId }
}

/** Handles one POST to a callback route, end to end. */
export async function handleCallback(
  deps: PipelineDeps,
  route: CallbackRoute,
  mode: AuthMode,
  body: string,
  receivedAt: number,
  remoteAddress?: string,
): Promise<Reply> {
  let payload: unknown
  let user: ApiUser
  try {
    payload = await authenticate(deps, mode, body)
    user = selectApiUser(deps.config, mode, payload)
  } catch (error) {
    if (!(error instanceof AuthenticationFailed)) throw error
    deps.metrics.authFailures.inc({ reason: error.reason })
    deps.log.warn(
      { route, mode, reason: error.reason, detail: error.detail, remoteAddress },
      'callback request refused: authentication failed',
    )
    return UNAUTHORIZED
  }

  const requestId = readRequestId(payload)
  if (requestId === undefined) {
    deps.log.warn({ route, mode }, 'authenticated callback request has no requestId: answered 400')
    return { status: 400, body: '' }
  }

  // The route until the request is read; its kind once it is (approval and signing are counted apart).
  let kindLabel: string = route === 'tx' ? 'tx' : RequestKind.configChange
  let amountUsd: number | null = null
  let policyVersion: string | null = null
  let action: Action
  let reason: string | null
  let outcome: string
  let ruleId: string | null = null
  let holdCreated: HoldCreatedEvent | undefined
  try {
    const result = await withDeadline(
      deps.clock,
      decideAndRecord(deps, route, payload, requestId, receivedAt),
      deps.config.decisionDeadlineMs,
    )
    if (result === 'deadline') {
      ;[action, reason, outcome] = [Action.retry, null, 'deadline']
      deps.log.warn({ requestId }, 'decision deadline passed: answered RETRY')
    } else {
      ;({ action, reason, ruleId } = result.settlement)
      outcome = result.settlement.outcome
      if ('policyVersion' in result.settlement) policyVersion = result.settlement.policyVersion
      if (result.facts) [kindLabel, amountUsd] = [result.facts.kind, result.amountUsd ?? null]
      if ('holdCreated' in result) holdCreated = result.holdCreated
      if (outcome === 'altered') {
        deps.metrics.replayAltered.inc()
        deps.log.error(
          { alert: 'replay-altered', requestId, signerId: user.signerId },
          'requestId re-sent with a different payload: answered REJECT',
        )
      }
    }
  } catch (error) {
    if (error instanceof RecordRefused) {
      // An identifier no database stores faithfully: refused for good (every retry gets the same answer).
      ;[action, reason, outcome] = [Action.reject, error.message, 'refused']
      deps.log.warn({ route, reason: error.message }, 'request refused: its identifiers cannot be recorded')
    } else {
      // Nothing was recorded, so nothing may be approved: RETRY asks the co-signer to come back.
      deps.metrics.storeErrors.inc()
      deps.log.error(
        { requestId, err: error instanceof CountersignError ? error.message : String(error) },
        'decision could not be recorded: answered RETRY',
      )
      ;[action, reason, outcome] = [Action.retry, null, 'store-error']
    }
  }

  const reply = await answer(user, mode, responseOf(requestId, action, reason), deps.clock.now())
  // After the answer, and without waiting: a slow receiver never delays the co-signer.
  if (holdCreated) deps.holds?.announce(holdCreated)
  const latencyMs = deps.clock.now() - receivedAt
  deps.metrics.decisions.inc({ action, kind: kindLabel, rule: ruleId ?? '', outcome })
  deps.metrics.latency.observe({ kind: kindLabel }, latencyMs / 1000)
  deps.log.info(
    {
      requestId,
      signerId: user.signerId,
      kind: kindLabel,
      action,
      rule: ruleId,
      reason,
      amountUsd,
      policyVersion,
      outcome,
      latencyMs,
    },
    'decision',
  )
  return reply
}
