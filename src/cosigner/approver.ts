import type { KeyObject } from 'node:crypto'
import type { Logger } from 'pino'
import {
  callHandler,
  type CallOutcome,
  type RetrySchedule,
  type RetryScheduleStore,
} from '../callback-client/index.js'
import type { Clock } from '../core/index.js'
import { JobCancelled, type ApprovalAnswer, type Approver } from '../link/index.js'
import type { ApproveBody } from '../protocol/index.js'
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

/**
 * The customer co-signer's approval of a signing attempt. The request is recorded before the handler is
 * asked, and its RETRY series after every RETRY, so a restart resumes it where it stood; the decision is
 * recorded before it is reported, and the signing gate (./signing-gate.ts) signs only what it approved.
 * No handler configured approves automatically (protocol.md §1); IGNORE answers approval requests only:
 * to a signing request it breaks the protocol and fails the attempt (fail closed).
 */
export function createApprover(options: ApproverOptions): Approver {
  return async (body, signal) => {
    const { store, party } = options
    const received = await store.receiveApproval({
      job: body.job,
      party,
      txId: body.txId,
      attempt: body.attempt,
      requestId: body.requestId,
      body,
    })
    if (received)
      await store.audit('cosigner-approval-received', body.requestId, {
        party,
        job: body.job,
        txId: body.txId,
        attempt: body.attempt,
      })
    let answer: ApprovalAnswer
    try {
      answer = await decide(options, body, signal)
    } catch (error) {
      if (!(signal.reason instanceof JobCancelled)) throw error // stopping: resumed at the next start
      answer = { outcome: 'failed', reason: signal.reason.message }
    }
    await store.decideApproval(body.job, answer.outcome, 'reason' in answer ? answer.reason : null)
    await store.audit('cosigner-approval-decided', body.requestId, {
      party,
      job: body.job,
      txId: body.txId,
      attempt: body.attempt,
      outcome: answer.outcome,
      ...('reason' in answer ? { reason: answer.reason } : {}),
    })
    return answer
  }
}

async function decide(
  options: ApproverOptions,
  body: ApproveBody,
  signal: AbortSignal,
): Promise<ApprovalAnswer> {
  const target = await options.target()
  if (target === undefined) {
    options.log.info({ requestId: body.requestId, txId: body.txId }, 'no callback handler: approved')
    options.observe?.('done', undefined)
    return { outcome: 'done' }
  }
  const started = options.clock.now()
  const { outcome } = await callHandler({
    ...(target.mode === 'jwt'
      ? { mode: 'jwt', cosignerKey: options.cosignerKey, handlerPublicKey: target.handlerPublicKey }
      : { mode: 'certificate', pinnedSpkiSha256: target.pinnedSpkiSha256, trustedCa: target.trustedCa }),
    url: target.url,
    route: 'tx',
    payload: body.payload,
    timeoutMs: options.schedule.timeoutMs,
    retry: { intervalMs: options.schedule.retryIntervalMs, maxRetries: options.schedule.maxRetries },
    retryStore: retryStoreOf(options.store),
    clock: options.clock,
    signal,
    onExchange: (exchange) =>
      options.log.info(
        {
          requestId: body.requestId,
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
