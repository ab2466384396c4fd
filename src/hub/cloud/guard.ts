import type { KeyObject } from 'node:crypto'
import { systemClock, type Clock } from '../../core/index.js'
import type { AttemptFence, JobDecision, LinkLogger } from '../../link/index.js'
import type { Authorization, SignBody } from '../../protocol/index.js'
import type { CloudLog } from '../../storage/index.js'
import { readAuthorization } from './authorization.js'

/**
 * A cloud co-signer's gate (docs/cosigner-protocol.md, "The signing authorization"): it joins a signing job
 * only under a valid, unexpired authorization of the hub that lists exactly this job (txId, attempt,
 * algorithm, content, path, session) for this customer holder, and only once that use is recorded in its
 * own hash-chained log, whose unique keys refuse a second authorization of the same (txId, attempt), a
 * session used twice, content signed under another transaction, and an attempt that a later one superseded.
 * Any error declines: fail closed. As the attempts' fence, it stops the steps of an attempt once a later
 * one of its transaction was authorized here, and records each signature completed.
 */
export class AuthorizationGuard {
  private readonly hubKey: KeyObject
  private readonly log: CloudLog
  private readonly clock: Clock
  private readonly logger: LinkLogger | undefined
  /** The latest attempt authorized here, by transaction (the recent ones: older sessions have idled out). */
  private readonly latestAttempts = new Map<string, number>()

  constructor(options: { hubKey: KeyObject; log: CloudLog; clock?: Clock; logger?: LinkLogger }) {
    this.hubKey = options.hubKey
    this.log = options.log
    this.clock = options.clock ?? systemClock
    this.logger = options.logger
  }

  /** The `JobGate` of the party runner. */
  readonly gate = async (job: SignBody): Promise<JobDecision> => {
    try {
      const decision = await this.decide(job)
      if (!decision.approve)
        this.logger?.warn({ job: job.job, txId: job.txId, reason: decision.reason }, 'declined a signing job')
      return decision
    } catch (error) {
      this.logger?.error({ err: error, job: job.job }, 'the authorization could not be checked or recorded')
      return { approve: false, reason: 'the cloud co-signer could not record the authorization; retry later' }
    }
  }

  readonly fence: AttemptFence = {
    superseded: (job) => {
      const latest = this.latestAttempts.get(job.txId) ?? job.attempt
      return latest > job.attempt
        ? `attempt ${job.attempt} of transaction ${job.txId} was superseded by attempt ${latest}`
        : undefined
    },
    signed: async (job) => {
      await this.log.recordSignature({
        job: job.job,
        txId: job.txId,
        attempt: job.attempt,
        algorithm: job.algorithm,
        content: job.content,
      })
    },
  }

  private noteAttempt(txId: string, attempt: number): void {
    if (attempt <= (this.latestAttempts.get(txId) ?? 0)) return
    this.latestAttempts.delete(txId)
    this.latestAttempts.set(txId, attempt)
    if (this.latestAttempts.size > REMEMBERED_TRANSACTIONS)
      this.latestAttempts.delete(this.latestAttempts.keys().next().value as string)
  }

  private async decide(job: SignBody): Promise<JobDecision> {
    const check = await readAuthorization(job.authorization, this.hubKey, Math.floor(this.clock.now() / 1000))
    if (!check.ok) return { approve: false, reason: check.reason }
    const mismatch = mismatchOf(check.authorization, job)
    if (mismatch !== undefined) return { approve: false, reason: mismatch }
    const outcome = await this.log.record({
      job: job.job,
      txId: job.txId,
      attempt: job.attempt,
      algorithm: job.algorithm,
      signer: check.authorization.signer,
      ruleId: check.authorization.ruleId,
      content: job.content,
      path: job.path,
      session: job.session,
      authorization: job.authorization,
    })
    if (!outcome.recorded) return { approve: false, reason: outcome.reason }
    this.noteAttempt(job.txId, job.attempt)
    return { approve: true }
  }
}

const REMEMBERED_TRANSACTIONS = 10_000

/** What in the job the authorization does not cover, if anything. */
function mismatchOf(authorization: Authorization, job: SignBody): string | undefined {
  if (authorization.txId !== job.txId || authorization.attempt !== job.attempt)
    return `the authorization is for transaction ${authorization.txId} attempt ${authorization.attempt}, not ${job.txId} attempt ${job.attempt}`
  if (authorization.algorithm !== job.algorithm)
    return `the authorization is for ${authorization.algorithm}, not ${job.algorithm}`
  if (authorization.signer !== job.holders[2])
    return `the authorization names signer ${authorization.signer}, but the key set's customer holder is ${job.holders[2]}`
  const listed = authorization.messages.some(
    (entry) =>
      entry.content === job.content &&
      entry.session === job.session &&
      entry.path.length === job.path.length &&
      entry.path.every((index, at) => index === job.path[at]),
  )
  if (!listed) return "the job's content, path and session are not one entry of the authorization"
  return undefined
}
