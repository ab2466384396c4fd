/**
 * A quorum of approvers: approved once `quorum` distinct approvers approved; one rejection denies, whatever
 * the approvals so far (hub-api.md §9, the seeds' "one rejection denies").
 */
export function quorumOutcome(
  required: { readonly quorum: number; readonly of: readonly string[] },
  votes: readonly { readonly userId: string; readonly vote: string }[],
): 'approved' | 'rejected' | 'pending' {
  const counted = votes.filter((vote) => required.of.includes(vote.userId))
  if (counted.some((vote) => vote.vote === 'REJECTED')) return 'rejected'
  const approvals = new Set(counted.filter((vote) => vote.vote === 'APPROVED').map((vote) => vote.userId))
  return approvals.size >= required.quorum ? 'approved' : 'pending'
}
