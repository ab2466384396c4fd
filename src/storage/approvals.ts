import { appendAudit } from './audit.js'
import { readVotes, type HoldRequirement, type RecordedVote } from './decisions.js'
import { NotFound, StoreConflict } from './errors.js'
import type { SqlSession } from './sql/types.js'

export interface HeldRequest {
  readonly requestId: string
  readonly kind: string
  readonly signerId: string | null
  readonly ruleId: string | null
  readonly reason: string | null
  readonly heldAt: Date
  readonly hold: HoldRequirement
  readonly votes: readonly RecordedVote[]
  readonly request: unknown
}

interface HeldRow extends Record<string, unknown> {
  request_id: string
  kind: string
  signer_id: string | null
  rule_id: string | null
  reason: string | null
  decided_at: number
  hold_json: string
  request_json: string
}

function toHeld(row: HeldRow, votes: readonly RecordedVote[]): HeldRequest {
  const { quorum, approvers, ttlMs } = JSON.parse(row.hold_json) as HoldRequirement
  return {
    requestId: row.request_id,
    kind: row.kind,
    signerId: row.signer_id,
    ruleId: row.rule_id,
    reason: row.reason,
    heldAt: new Date(Number(row.decided_at)),
    hold: { quorum, approvers, ttlMs },
    votes,
    request: JSON.parse(row.request_json) as unknown,
  }
}

export async function listHeld(session: SqlSession): Promise<HeldRequest[]> {
  const rows = await session.all<HeldRow>(`SELECT * FROM decisions WHERE status = 'held' ORDER BY decided_at`)
  const held: HeldRequest[] = []
  for (const row of rows) held.push(toHeld(row, await readVotes(session, row.request_id)))
  return held
}

export interface VoteInput {
  readonly requestId: string
  readonly approver: string
  readonly vote: 'approve' | 'reject'
  readonly reason?: string
}

/**
 * Records one approver's vote on a held request and audits it. The decision itself changes on the
 * co-signer's next retry, when the handler resolves the hold with the votes recorded here.
 */
export async function castVote(session: SqlSession, input: VoteInput, now: number): Promise<HeldRequest> {
  const row = await session.one<HeldRow & { status: string }>(
    'SELECT * FROM decisions WHERE request_id = ?',
    [input.requestId],
  )
  if (row === undefined) throw new NotFound(`no request with id ${input.requestId}`)
  if (row.status !== 'held')
    throw new StoreConflict(`request ${input.requestId} is not awaiting approval (already decided)`)
  const hold = JSON.parse(row.hold_json) as HoldRequirement
  if (!hold.approvers.includes(input.approver)) {
    throw new StoreConflict(
      `${input.approver} is not an approver of request ${input.requestId} (approvers: ${hold.approvers.join(', ')})`,
    )
  }
  const inserted = await session.run(
    `INSERT INTO approval_votes (request_id, approver, vote, reason, voted_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (request_id, approver) DO NOTHING`,
    [input.requestId, input.approver, input.vote, input.reason ?? null, now],
  )
  if (inserted === 0)
    throw new StoreConflict(`${input.approver} has already voted on request ${input.requestId}`)
  await appendAudit(
    session,
    'vote',
    input.requestId,
    { approver: input.approver, vote: input.vote, reason: input.reason ?? null },
    now,
  )
  return toHeld(row, await readVotes(session, input.requestId))
}
