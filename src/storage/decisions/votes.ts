import { appendEvents } from '../audit/index.js'
import { chunked } from '../database/index.js'
import { tables, type Executor, type WriteSession } from '../database/index.js'
import type { HoldRequirement, RecordedVote, Route } from './plan.js'
import { HELD, type DecisionTables } from './schema.js'
import { decisionKey as keyOf, requestLock } from './identity.js'
import { NotFound, StoreConflict, VoteRefused } from '../errors.js'
import type { ApprovalTables } from './votes-schema.js'
import { findApprover } from './approvers.js'
import { credentialKeyOf } from '../console/index.js'
import type { ConsoleTables } from '../console/index.js'

export interface HeldRequest {
  readonly route: Route
  readonly requestId: string
  /** The digest of the payload as recorded: what an approver's vote is signed over. */
  readonly payloadDigest: string
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
    payloadDigest: row.payload_digest,
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

/**
 * The votes of many requests in one query per chunk, keyed by route and requestId, in vote order, each
 * with its approver's currently registered key (null once the approver is removed).
 */
export async function readVotesOf(
  db: Executor,
  requests: readonly { route: string; requestId: string }[],
): Promise<Map<string, RecordedVote[]>> {
  const votes = new Map<string, RecordedVote[]>()
  const wanted = new Set(requests.map((request) => keyOf(request.route, request.requestId)))
  for (const chunk of chunked([...new Set(requests.map((request) => request.requestId))], 1)) {
    if (chunk.length === 0) continue
    // A console vote verifies with the passkey it names, only while that passkey is its approver's and the
    // approver is still registered: removing the approver voids both kinds of vote alike.
    const rows = await tables<ApprovalTables & ConsoleTables>(db)
      .selectFrom('approval_votes')
      .leftJoin('approvers', 'approvers.id', 'approval_votes.approver')
      .leftJoin('console_credentials', (join) =>
        join
          .onRef('console_credentials.credential_id', '=', 'approval_votes.credential_id')
          .onRef('console_credentials.principal', '=', 'approval_votes.approver'),
      )
      .selectAll('approval_votes')
      .select(['approvers.public_key', 'console_credentials.public_key_pem'])
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
        signedAt: row.signed_at === null ? null : Number(row.signed_at),
        signature: row.signature,
        publicKey: keyOfVote(row),
        credentialId: row.credential_id,
      })
      votes.set(key, list)
    }
  }
  return votes
}

function keyOfVote(row: {
  credential_id: string | null
  public_key: string | null
  public_key_pem: string | null
}): string | null {
  if (row.public_key === null) return null
  return row.credential_id === null ? row.public_key : row.public_key_pem
}

export async function listHeld(db: Executor): Promise<HeldRequest[]> {
  const rows = await tables<DecisionTables>(db)
    .selectFrom('decisions')
    .selectAll()
    .where('status', '=', HELD)
    .orderBy('decided_at')
    .execute()
  const votes = await readVotesOf(
    db,
    rows.map((row) => ({ route: row.route, requestId: row.request_id })),
  )
  return rows.map((row) => toHeld(row, votes.get(keyOf(row.route, row.request_id)) ?? []))
}

/** A vote as the approver signed it: the facts of the vote statement and the signature over them. */
export interface SignedVoteInput {
  readonly route: Route
  readonly requestId: string
  readonly payloadDigest: string
  readonly decision: 'approve' | 'reject'
  readonly approver: string
  readonly reason: string | null
  /** Milliseconds since the epoch. */
  readonly signedAt: number
  /** base64url; for a console vote, the WebAuthn assertion (`encodePasskeyVote` of the keys module). */
  readonly signature: string
  /** The passkey a console vote was made with; absent for a vote signed with the approver's key. */
  readonly credentialId?: string
}

/** The held request a vote is cast on (the vote itself names the request it was signed for). */
export interface VoteTarget {
  readonly route: Route
  readonly requestId: string
}

/** What a vote must be about, read by the store under the request's lock. */
export interface VoteContext {
  readonly route: Route
  readonly requestId: string
  readonly payloadDigest: string
  readonly approver: string
  readonly publicKeyPem: string
  readonly publicKeyFingerprint: string
  readonly recordedAt: number
}

/**
 * The signature rules, outside this layer (`checkVote` of the keys module): why the vote must be refused,
 * or null. Structural, so the store depends on no cryptography of its own.
 */
export type VoteVerifier = (vote: SignedVoteInput, signature: string, expected: VoteContext) => string | null

/**
 * Records one approver's signed vote on the held request `target` and audits it with its signature. The vote is
 * verified first, under the request's lock, against the request as recorded and the approver's registered
 * key: a refusal records nothing. The decision itself changes on the co-signer's next retry, when the
 * handler's plan resolves the hold with the votes recorded here (verifying each again).
 */
export async function castVote(
  session: WriteSession,
  target: VoteTarget,
  input: SignedVoteInput,
  verify: VoteVerifier,
  now: number,
): Promise<HeldRequest> {
  const { route, requestId } = target
  const { approver } = input
  await session.lock([requestLock(route, requestId)])
  const row = await tables<DecisionTables>(session.db)
    .selectFrom('decisions')
    .selectAll()
    .where('route', '=', route)
    .where('request_id', '=', requestId)
    .executeTakeFirst()
  if (row === undefined) throw new NotFound(`no ${route} request with id ${requestId}`)
  if (row.status !== 'held')
    throw new StoreConflict(`request ${requestId} is not awaiting approval (already decided)`)
  const hold = JSON.parse(row.hold_json!) as HoldRequirement
  if (!hold.approvers.includes(approver)) {
    throw new StoreConflict(
      `${approver} is not an approver of request ${requestId} (approvers: ${hold.approvers.join(', ')})`,
    )
  }
  const registered = await findApprover(session.db, approver)
  if (registered === undefined)
    throw new VoteRefused(
      `vote refused: ${approver} is not a registered approver: register their public key with countersign approvers add`,
    )
  const publicKeyPem =
    input.credentialId === undefined
      ? registered.publicKey
      : await credentialKeyOf(session.db, approver, input.credentialId)
  if (publicKeyPem === undefined)
    throw new VoteRefused(`vote refused: the passkey is not enrolled for ${approver}`)
  const refusal = verify(input, input.signature, {
    route,
    requestId,
    payloadDigest: row.payload_digest,
    approver,
    publicKeyPem,
    publicKeyFingerprint: input.credentialId === undefined ? registered.fingerprint : '',
    recordedAt: now,
  })
  if (refusal !== null) throw new VoteRefused(`vote refused: ${refusal}`)
  const inserted = await tables<ApprovalTables>(session.db)
    .insertInto('approval_votes')
    .values({
      route,
      request_id: requestId,
      approver,
      vote: input.decision,
      reason: input.reason,
      voted_at: now,
      signed_at: input.signedAt,
      signature: input.signature,
      credential_id: input.credentialId ?? null,
    })
    .onConflict((conflict) => conflict.columns(['route', 'request_id', 'approver']).doNothing())
    .executeTakeFirst()
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0)
    throw new StoreConflict(`${approver} has already voted on request ${requestId}`)
  await appendEvents(session, [
    {
      event: 'vote',
      requestId,
      at: now,
      body: {
        route,
        approver,
        vote: input.decision,
        reason: input.reason,
        payloadDigest: row.payload_digest,
        signedAt: input.signedAt,
        signature: input.signature,
        ...(input.credentialId === undefined
          ? { keyFingerprint: registered.fingerprint }
          : { credentialId: input.credentialId }),
      },
    },
  ])
  const votes = await readVotesOf(session.db, [{ route, requestId }])
  return toHeld(row, votes.get(keyOf(route, requestId)) ?? [])
}
