import { sign, type KeyObject } from 'node:crypto'
import type { Logger } from 'pino'
import {
  callHandler,
  type CallOutcome,
  type RetrySchedule,
  type RetryScheduleStore,
} from '../callback-client/index.js'
import { canonicalJson, type Clock } from '../core/index.js'
import {
  JobCancelled,
  type ApprovalAnswer,
  type Approver,
  type ConfigAnswer,
  type ConfigApprover,
} from '../link/index.js'
import type { CallbackRoute } from '../protocol/index.js'
import type { CosignerStore } from '../storage/index.js'
import type { CallbackTarget } from './callback-target.js'

/** How the co-signer calls a callback handler: the documented defaults are 30 s, every 3 minutes, 20 times. */
export interface CallbackSchedule {
  readonly timeoutMs: number
  readonly retryIntervalMs: number
  readonly maxRetries: number
}

export interface ApproverOptions {
  readonly party: string
  readonly store: CosignerStore
  /** The API user's callback handler now; undefined when none is configured. */
  readonly target: () => Promise<CallbackTarget | undefined>
  /** The co-signer's RS256 key: signs each JWT-mode request (the handler holds its public half). */
  readonly cosignerKey: KeyObject
  readonly schedule: CallbackSchedule
  readonly clock: Clock
  readonly log: Logger
  /** Told each decision and the handler's latency (metrics). */
  readonly observe?: (outcome: ApprovalAnswer['outcome'], callbackMs: number | undefined) => void
}

/** What one request to decide is: its job, its place in the co-signer's records, the handler's route. */
interface Request {
  readonly job: string
  readonly txId: string
  readonly attempt: number
  readonly requestId: string
  readonly route: CallbackRoute
  readonly payload: Record<string, unknown>
  /** Recorded as received, to be resumed after a restart. */
  readonly body: Record<string, unknown>
}

/**
 * The customer co-signer's approval of a signing attempt. The request is recorded before the handler is
 * asked, and its RETRY series after every RETRY, so a restart resumes it where it stood; the decision is
 * recorded before it is reported, and the signing gate (./signing-gate.ts) signs only what it approved.
 * No handler configured approves automatically (protocol.md §1); IGNORE answers approval requests only:
 * to a signing request it breaks the protocol and fails the attempt (fail closed).
 */
export function createApprover(options: ApproverOptions): Approver {
  return (body, signal) =>
    decideRecorded(options, { ...body, route: 'tx', body }, signal, () => ({ outcome: 'done' }) as const)
}

/**
 * The API user's approval of a configuration change (a policy draft): the same path through its callback
 * handler on the `config_change_sign_request` route; an approval is the statement signed with the API user's
 * configuration-change key (Ed25519), which the hub verifies under the key registered at pairing.
 */
export function createConfigApprover(
  options: ApproverOptions & { readonly configKey: KeyObject },
): ConfigApprover {
  return async (body, signal) => {
    const mismatch = statementMismatch(body.statement, body.payload, options.party)
    if (mismatch !== undefined) return { outcome: 'failed', reason: mismatch }
    return decideRecorded(
      options,
      { ...body, txId: `config:${body.requestId}`, attempt: 0, route: 'config', body },
      signal,
      () => ({
        outcome: 'done' as const,
        signature: sign(null, Buffer.from(canonicalJson(body.statement)), options.configKey).toString('hex'),
      }),
    )
  }
}

/**
 * The statement signed must say what the handler was shown: the same draft and digest, for this API user.
 * Otherwise the hub could have an approval of one change signed under the request for another.
 */
function statementMismatch(
  statement: Record<string, unknown>,
  payload: Record<string, unknown>,
  party: string,
): string | undefined {
  const shown = (payload.extraInfo ?? {}) as Record<string, unknown>
  const same =
    statement.userId === party &&
    payload.signerId === party &&
    statement.draftId === shown.draftId &&
    statement.digest === shown.digest &&
    typeof statement.digest === 'string'
  return same ? undefined : 'the statement to sign does not match the request shown to the callback handler'
}

/** Records the request, decides it (or learns it was cancelled), records the decision, then answers. */
async function decideRecorded<A extends ApprovalAnswer | ConfigAnswer>(
  options: ApproverOptions,
  request: Request,
  signal: AbortSignal,
  approved: () => A,
): Promise<A | ConfigAnswer> {
  const { store, party } = options
  const facts = { party, job: request.job, txId: request.txId, attempt: request.attempt }
  const received = await store.receiveApproval({ ...facts, requestId: request.requestId, body: request.body })
  if (received) await store.audit('cosigner-approval-received', request.requestId, facts)
  let answer: A | ConfigAnswer
  try {
    const decided = await decide(options, request, signal)
    answer = decided.outcome === 'done' ? approved() : decided
  } catch (error) {
    if (!(signal.reason instanceof JobCancelled)) throw error // stopping: resumed at the next start
    answer = { outcome: 'failed', reason: signal.reason.message }
  }
  const reason = 'reason' in answer ? answer.reason : null
  await store.decideApproval(request.job, answer.outcome, reason)
  await store.audit('cosigner-approval-decided', request.requestId, {
    ...facts,
    outcome: answer.outcome,
    ...(reason === null ? {} : { reason }),
  })
  return answer
}

async function decide(
  options: ApproverOptions,
  request: Request,
  signal: AbortSignal,
): Promise<ApprovalAnswer> {
  const target = await options.target()
  if (target === undefined) {
    options.log.info({ requestId: request.requestId }, 'no callback handler: approved')
    options.observe?.('done', undefined)
    return { outcome: 'done' }
  }
  const started = options.clock.now()
  const { outcome } = await callHandler({
    ...(target.mode === 'jwt'
      ? { mode: 'jwt', cosignerKey: options.cosignerKey, handlerPublicKey: target.handlerPublicKey }
      : { mode: 'certificate', pinnedSpkiSha256: target.pinnedSpkiSha256, trustedCa: target.trustedCa }),
    url: target.url,
    route: request.route,
    payload: request.payload,
    timeoutMs: options.schedule.timeoutMs,
    retry: { intervalMs: options.schedule.retryIntervalMs, maxRetries: options.schedule.maxRetries },
    retryStore: retryStoreOf(options.store),
    clock: options.clock,
    signal,
    onExchange: (exchange) =>
      options.log.info(
        {
          requestId: request.requestId,
          attempt: exchange.attempt,
          action: exchange.response?.action,
          ms: exchange.durationMs,
          ...(exchange.error === undefined ? {} : { error: exchange.error.code }),
        },
        'callback handler answered',
      ),
  })
  const answer = answerOf(outcome, options.schedule)
  options.observe?.(answer.outcome, options.clock.now() - started)
  return answer
}
function answerOf(outcome: CallOutcome, schedule: CallbackSchedule): ApprovalAnswer {
  switch (outcome.type) {
    case 'decided':
      if (outcome.action === 'APPROVE') return { outcome: 'done' }
      if (outcome.action === 'REJECT')
        return { outcome: 'declined', reason: outcome.rejectionReason ?? 'rejected by the callback handler' }
      // The client refuses IGNORE to a signing-stage request as a protocol violation (failed, below);
      // whatever else decides without approving declines.
      return { outcome: 'declined', reason: `the callback handler answered ${outcome.action}, not APPROVE` }
    case 'retries-exhausted':
      return {
        outcome: 'failed',
        reason: `the callback handler answered RETRY ${outcome.attempts} times (${schedule.maxRetries} retries allowed)`,
      }
    case 'failed':
      return { outcome: 'failed', reason: `callback handler: ${outcome.error.message}` }
  }
}

function retryStoreOf(store: CosignerStore): RetryScheduleStore {
  return {
    load: async (requestId) => (await store.loadRetrySeries(requestId)) as RetrySchedule | undefined,
    save: (schedule) => store.saveRetrySeries(schedule.requestId, { ...schedule }),
    delete: (requestId) => store.deleteRetrySeries(requestId),
  }
}
