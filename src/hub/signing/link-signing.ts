import { randomBytes, type KeyObject } from 'node:crypto'
import type { Clock } from '../../core/index.js'
import type { LinkJob } from '../../storage/index.js'
import { signAuthorization } from '../cloud/index.js'
import { CLOUD_PARTIES, type LinkHub } from '../link/index.js'
import type { SignJobRequest, SignOutcome, SigningService } from '../pipeline/ports.js'
import { resultText } from './result-field.js'

/**
 * One signing attempt over the co-signer link. First the signer's co-signer approves it: an `approve` job
 * carries the callback request and the messages, and the co-signer answers once its callback handler has
 * decided (RETRY series included). Then an authorization the cloud co-signers check (every message, its path
 * and session), one `sign` job per message to the three holders {cloud1, cloud2, signer}, and the first
 * verified signature of each job (`signJobId` names the message, so any hub replica can verify a result),
 * within `authorizationSeconds`. A decline by any holder declines the attempt; an abort cancels the jobs
 * still running.
 */
export interface LinkSigningOptions {
  readonly link: LinkHub
  readonly serviceKey: KeyObject
  readonly clock: Clock
  /** How long the cloud co-signers accept the authorization, and the bound of the MPC signature. */
  readonly authorizationSeconds: number
}

export const signJobId = (txId: string, attempt: number, index: number): string =>
  `${txId}:${attempt}:${index}`

export const approvalJobId = (txId: string, attempt: number): string => `${txId}:${attempt}:approve`

/** The message index of a sign job, from its id. */
export function messageIndexOf(jobId: string): number | undefined {
  const index = Number(jobId.split(':').at(-1))
  return Number.isInteger(index) && index >= 0 ? index : undefined
}

function outcomeOf(jobs: readonly LinkJob[]): SignOutcome {
  const declined = jobs.find((job) => job.state === 'declined')
  if (declined !== undefined)
    return {
      outcome: 'declined',
      reason: `${resultText(declined.result, 'from', 'a holder')}: ${resultText(declined.result, 'reason', 'no reason given')}`,
    }
  const failed = jobs.find((job) => job.state !== 'done')
  if (failed !== undefined)
    return { outcome: 'failed', reason: resultText(failed.result, 'reason', 'a signing session failed') }
  return { outcome: 'signed', signatures: jobs.map((job) => job.result?.signature) }
}

export class LinkSigningService implements SigningService {
  private readonly options: LinkSigningOptions

  constructor(options: LinkSigningOptions) {
    this.options = options
  }

  async sign(request: SignJobRequest, signal: AbortSignal, onSigning?: () => void): Promise<SignOutcome> {
    const refused = await this.approval(request, signal)
    if (refused !== undefined) return refused
    onSigning?.()
    const bounded = new AbortController()
    const timer = this.options.clock.setTimer(this.options.authorizationSeconds * 1000, () =>
      bounded.abort(new Error('the MPC signature ran out of time')),
    )
    try {
      return await this.signApproved(request, AbortSignal.any([signal, bounded.signal]))
    } finally {
      timer.cancel()
    }
  }

  abandon(txId: string, attempt: number, reason: string): Promise<void> {
    return this.options.link.cancelAttempt(txId, attempt, reason)
  }

  /** The signer's co-signer's answer: undefined when it approved, the attempt's outcome otherwise. */
  private async approval(request: SignJobRequest, signal: AbortSignal): Promise<SignOutcome | undefined> {
    const { link } = this.options
    const job = await link.startPartyJob({
      id: approvalJobId(request.txId, request.attempt),
      kind: 'approve',
      holder: request.signer,
      body: {
        txId: request.txId,
        attempt: request.attempt,
        requestId: String(request.callback.requestId),
        algorithm: request.algorithm,
        messages: request.messages.map((message) => ({ content: message.content, path: [...message.path] })),
        payload: { ...request.callback, players: [...CLOUD_PARTIES, request.signer] },
      },
    })
    let answered: LinkJob
    try {
      answered = await link.waitForJob(job.id, signal)
    } catch (error) {
      const reason = reasonOf(signal, error)
      await link.cancelJob(job.id, reason)
      return {
        outcome: 'failed',
        reason: `the co-signer of ${request.signer} did not approve in time: ${reason}`,
      }
    }
    if (answered.state === 'done') return undefined
    const reason = resultText(answered.result, 'reason', 'no reason given')
    return answered.state === 'declined'
      ? { outcome: 'declined', reason }
      : { outcome: 'failed', reason: `the co-signer of ${request.signer} could not approve: ${reason}` }
  }

  private async signApproved(request: SignJobRequest, signal: AbortSignal): Promise<SignOutcome> {
    const { link, clock } = this.options
    const holders = [...CLOUD_PARTIES, request.signer] as const
    const sessions = request.messages.map(() => randomBytes(32).toString('hex'))
    const iat = Math.floor(clock.now() / 1000)
    const authorization = await signAuthorization(this.options.serviceKey, {
      txId: request.txId,
      attempt: request.attempt,
      algorithm: request.algorithm,
      signer: request.signer,
      ruleId: request.ruleId,
      messages: request.messages.map((message, index) => ({
        content: message.content,
        path: [...message.path],
        session: sessions[index] as string,
      })),
      iat,
      exp: iat + this.options.authorizationSeconds,
    })
    const jobs = await Promise.all(
      request.messages.map((message, index) =>
        link.startJob({
          id: signJobId(request.txId, request.attempt, index),
          kind: 'sign',
          algorithm: request.algorithm,
          holders,
          session: sessions[index] as string,
          txId: request.txId,
          attempt: request.attempt,
          path: [...message.path],
          content: message.content,
          authorization,
        }),
      ),
    )
    try {
      return outcomeOf(await Promise.all(jobs.map((job) => link.waitForJob(job.id, signal))))
    } catch (error) {
      const reason = reasonOf(signal, error)
      await Promise.all(jobs.map((job) => link.cancelJob(job.id, reason)))
      return { outcome: 'failed', reason }
    }
  }
}

function reasonOf(signal: AbortSignal, error: unknown): string {
  return signal.aborted ? String((signal.reason as Error | undefined)?.message) : String(error)
}
