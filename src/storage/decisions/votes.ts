import { appendEvents } from '../audit/index.js'
import { chunked } from '../database/index.js'
import { tables, type Executor, type WriteSession } from '../database/index.js'
import type { HoldRequirement, RecordedVote, Route } from './plan.js'
import type { DecisionTables } from './schema.js'
import { decisionKey as keyOf, requestLock } from './identity.js'
import { NotFound, StoreConflict } from '../errors.js'
import type { ApprovalTables } from './votes-schema.js'

export interface HeldRequest {
  readonly route: Route
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

type DecisionRow = DecisionTables['decisions']

function toHeld(row: DecisionRow, votes: readonly RecordedVote[]): HeldRequest {
  const { quorum, approvers, ttlMs } = JSON.parse(row.hold_json!) as HoldRequirement
  return {
    route: row.route as Route,
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

/** The votes of many requests in one query per chunk, keyed by route and requestId, in vote order. */
export async function readVotesOf(
  db: Executor,
  requests: readonly { route: string; requestId: string }[],
): Promise<Map<string, RecordedVote[]>> {
  const votes = new Map<string, RecordedVote[]>()
  const wanted = new Set(requests.map((request) => keyOf(request.route, request.requestId)))
  for (const chunk of chunked([...new Set(requests.map((request) => request.requestId))], 1)) {
    if (chunk.length === 0) continue
    const rows = await tables<ApprovalTables>(db)
      .selectFrom('approval_votes')
      .selectAll()
      .where('request_id', 'in', chunk)
      .orderBy('voted_at')
      .orderBy('approver')
      .execute()
    for (const row of rows) {
      const key = keyOf(row.route, row.request_id)
      if (!wanted.has(key)) continue
      const list = votes.get(key) ?? []
      list.push({
        approver: row.approver,
        vote: row.vote,
        ...(row.reason !== null ? { reason: row.reason } : {}),
        at: new Date(Number(row.voted_at)),
      })
      votes.set(key, list)
    }
  }
  return votes
}

export async function listHeld(db: Executor): Promise<HeldRequest[]> {
  const rows = await tables<DecisionTables>(db)
    .selectFrom('decisions')
    .selectAll()
    .where('status', '=', 'held')
    .orderBy('decided_at')
    .execute()
  const votes = await readVotesOf(
    db,
    rows.map((row) => ({ route: row.route, requestId: row.request_id })),
  )
  return rows.map((row) => toHeld(row, votes.get(keyOf(row.route, row.request_id)) ?? []))
}

export interface VoteInput {
  readonly requestId: string
  /** Needed only when the requestId is held on both routes. */
  readonly route?: Route
  readonly approver: string
  readonly vote: 'approve' | 'reject'
  readonly reason?: string
}

async function findRoute(db: Executor, input: VoteInput): Promise<Route> {
  if (input.route !== undefined) return input.route
  const rows = await tables<DecisionTables>(db)
    .selectFrom('decisions')
    .select(['route', 'status'])
    .where('request_id', '=', input.requestId)
    .execute()
  if (rows.length === 0) throw new NotFound(`no request with id ${input.requestId}`)
  const held = rows.filter((row) => row.status === 'held')
  if (held.length > 1)
    throw new StoreConflict(
      `request ${input.requestId} is held on both routes: name the route (tx or config)`,
    )
  return (held[0] ?? rows[0]!).route as Route
}

/**
 * Records one approver's vote on a held request and audits it. The decision itself changes on the
 * co-signer's next retry, when the handler's plan resolves the hold with the votes recorded here.
 */
export async function castVote(session: WriteSession, input: VoteInput, now: number): Promise<HeldRequest> {
  const route = await findRoute(session.db, input)
  await session.lock([requestLock(route, input.requestId)])
  const decisions = tables<DecisionTables>(session.db)
  const row = await decisions
    .selectFrom('decisions')
    .selectAll()
    .where('route', '=', route)
    .where('request_id', '=', input.requestId)
    .executeTakeFirst()
  if (row === undefined) throw new NotFound(`no ${route} request with id ${input.requestId}`)
  if (row.status !== 'held')
    throw new StoreConflict(`request ${input.requestId} is not awaiting approval (already decided)`)
  const hold = JSON.parse(row.hold_json!) as HoldRequirement
  if (!hold.approvers.includes(input.approver)) {
    throw new StoreConflict(
      `${input.approver} is not an approver of request ${input.requestId} (approvers: ${hold.approvers.join(', ')})`,
    )
  }
  const inserted = await tables<ApprovalTables>(session.db)
    .insertInto('approval_votes')
    .values({
      route,
      request_id: input.requestId,
      approver: input.approver,
      vote: input.vote,
      reason: input.reason ?? null,
      voted_at: now,
    })
    .onConflict((conflict) => conflict.columns(['route', 'request_id', 'approver']).doNothing())
    .executeTakeFirst()
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0)
    throw new StoreConflict(`${input.approver} has already voted on request ${input.requestId}`)
  await appendEvents(session, [
    {
      event: 'vote',
      requestId: input.requestId,
      at: now,
      body: { route, approver: input.approver, vote: input.vote, reason: input.reason ?? null },
    },
  ])
  const votes = await readVotesOf(session.db, [{ route, requestId: input.requestId }])
  return toHeld(row, votes.get(keyOf(route, input.requestId)) ?? [])
}
