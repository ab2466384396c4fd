import type { QuorumRequirement } from './program.js'

export interface Vote {
  readonly approver: string
  readonly vote: 'approve' | 'reject'
  readonly reason?: string
  readonly at: Date
}

export type HoldResolution =
  | { readonly state: 'pending'; readonly approvals: number }
  | { readonly state: 'approved' }
  | { readonly state: 'rejected'; readonly reason: string }

/**
 * Pure: quorum reached → approved; any veto by a listed approver → rejected; past heldAt+ttl → rejected.
 * Votes by non-approvers and votes cast after the deadline are ignored; each approver counts once (their
 * first vote). A veto wins over a quorum reached in the same set of votes: when in doubt, do not move money.
 */
export function resolveHold(
  require: QuorumRequirement,
  heldAt: Date,
  votes: readonly Vote[],
  now: Date,
): HoldResolution {
  const deadline = heldAt.getTime() + require.ttlMs
  const approvers = new Set(require.approvers)
  const counted = new Map<string, Vote>()
  for (const vote of [...votes].sort((a, b) => a.at.getTime() - b.at.getTime())) {
    if (!approvers.has(vote.approver) || vote.at.getTime() > deadline || counted.has(vote.approver)) continue
    counted.set(vote.approver, vote)
  }
  const veto = [...counted.values()].find((vote) => vote.vote === 'reject')
  if (veto !== undefined) {
    return {
      state: 'rejected',
      reason: `rejected by ${veto.approver}${veto.reason ? `: ${veto.reason}` : ''}`,
    }
  }
  const approvals = [...counted.values()].filter((vote) => vote.vote === 'approve').length
  if (approvals >= require.quorum) return { state: 'approved' }
  if (now.getTime() > deadline) {
    return {
      state: 'rejected',
      reason: `approval quorum not reached within ${Math.round(require.ttlMs / 60_000)} minutes`,
    }
  }
  return { state: 'pending', approvals }
}
