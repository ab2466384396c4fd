import type { JobGate } from '../link/index.js'
import type { CosignerStore } from '../storage/index.js'

/**
 * The customer co-signer joins a signature only for what its callback handler approved: an approval of the
 * same (txId, attempt), recorded here, that lists the job's exact content and derivation path.
 */
export function signingGate(party: string, store: CosignerStore): JobGate {
  return async (job) => {
    const approval = await store.approvalOf(party, job.txId, job.attempt)
    if (approval?.outcome !== 'done')
      return {
        approve: false,
        reason: `attempt ${job.attempt} of ${job.txId} was not approved by this co-signer`,
      }
    const messages = (approval.body as { messages?: { content: string; path: number[] }[] }).messages ?? []
    const listed = messages.some(
      (message) => message.content === job.content && message.path.join('/') === job.path.join('/'),
    )
    return listed
      ? { approve: true }
      : { approve: false, reason: `the content asked under ${job.txId} is not the one approved` }
  }
}
