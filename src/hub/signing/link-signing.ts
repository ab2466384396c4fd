import { randomBytes, type KeyObject } from 'node:crypto'
import type { Clock } from '../../core/index.js'
import type { LinkJob } from '../../storage/index.js'
import { signAuthorization } from '../cloud/index.js'
import { CLOUD_PARTIES, type LinkHub } from '../link/index.js'
import type { SignJobRequest, SignOutcome, SigningService } from '../pipeline/ports.js'
import { resultText } from './result-field.js'

/**
 * One signing attempt over the co-signer link: an authorization the cloud co-signers check (every message,
 * its path and session), one `sign` job per message to the three holders {cloud1, cloud2, signer}, and the
 * first verified signature of each job (`signJobId` names the message, so any hub replica can verify a
 * result). A decline by any holder declines the attempt; an abort cancels the jobs still running.
 */
export interface LinkSigningOptions {
  readonly link: LinkHub
  readonly serviceKey: KeyObject
  readonly clock: Clock
  /** How long the cloud co-signers accept the authorization. */
  readonly authorizationSeconds: number
}

export const signJobId = (txId: string, attempt: number, index: number): string =>
  `${txId}:${attempt}:${index}`

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

  async sign(request: SignJobRequest, signal: AbortSignal): Promise<SignOutcome> {
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
      const reason = signal.aborted ? String((signal.reason as Error | undefined)?.message) : String(error)
      await Promise.all(jobs.map((job) => link.cancelJob(job.id, reason)))
      return { outcome: 'failed', reason }
    }
  }
}
