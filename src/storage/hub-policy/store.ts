import {
  LockRank,
  tables,
  type Executor,
  type StorageDatabase,
  type WriteSession,
} from '../database/index.js'
import { NotFound } from '../errors.js'
import type { HubPolicyTables } from './schema.js'

/**
 * The storage of the hub's policy governance. It records what the hub's pure governance rules decide
 * (`DraftTransition`): the store never decides whether a draft is approved. Every change and its audit
 * entries are written in one transaction, under one governance lock, so two approvals arriving together
 * are applied one after the other and each sees the other's vote.
 */
export type DraftState = 'draft' | 'awaiting_quorum' | 'published' | 'rejected'

export interface DraftVote {
  readonly userId: string
  /** The voter's workspace role when the vote was cast. */
  readonly role: string
  readonly vote: 'approve' | 'reject'
  readonly at: number
}

export interface PolicyDraft {
  readonly id: string
  readonly text: string
  readonly digest: string
  readonly proposedBy: string
  readonly proposedAt: number
  readonly state: DraftState
  /** In the order cast. */
  readonly votes: readonly DraftVote[]
}

export interface PublishedPolicy {
  /** 1, 2, 3… in publication order. */
  readonly version: number
  readonly text: string
  readonly digest: string
  readonly publishedAt: number
  readonly publishedBy: string
  readonly draftId: string
}

export type NewDraft = Omit<PolicyDraft, 'state' | 'votes'>

export interface GovernanceEvent {
  readonly event: string
  readonly body: Record<string, unknown>
}

/** What the governance rules decided for one draft: a vote to record, its new state, the events to audit. */
export interface DraftTransition {
  readonly vote?: DraftVote
  readonly state: DraftState
  /** Present when the draft becomes the active policy. */
  readonly publish?: { readonly at: number; readonly by: string }
  readonly events: readonly GovernanceEvent[]
}

/**
 * The hub's audit chain, injected: called for each event inside the write that makes the change, with
 * that write's session, so the audit entry commits or rolls back with it.
 */
export type GovernanceAudit = (
  event: string,
  body: Record<string, unknown>,
  session: WriteSession,
) => Promise<void>

export interface HubPolicyStore {
  /** The policy published last, or `undefined` before the first publication. */
  active(): Promise<PublishedPolicy | undefined>
  draft(id: string): Promise<PolicyDraft | undefined>
  /** The drafts in `state`, oldest first (then by id). */
  draftsIn(state: DraftState): Promise<PolicyDraft[]>
  createDraft(draft: NewDraft, events: readonly GovernanceEvent[]): Promise<PolicyDraft>
  /**
   * Applies `plan(draft, active)` to the draft, read under the governance lock. `plan` may throw to refuse
   * (nothing is written). Throws `NotFound` for an unknown draft.
   */
  transition(
    id: string,
    plan: (draft: PolicyDraft, active: PublishedPolicy | undefined) => DraftTransition,
  ): Promise<{ readonly draft: PolicyDraft; readonly active: PublishedPolicy | undefined }>
}

const GOVERNANCE_LOCK = { rank: LockRank.request, key: 'hub-policy:governance' } as const

async function readActive(db: Executor): Promise<PublishedPolicy | undefined> {
  const row = await tables<HubPolicyTables>(db)
    .selectFrom('hub_policy_versions')
    .selectAll()
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst()
  if (row === undefined) return undefined
  return {
    version: Number(row.version),
    text: row.text,
    digest: row.digest,
    publishedAt: Number(row.published_at),
    publishedBy: row.published_by,
    draftId: row.draft_id,
  }
}

async function readDraft(db: Executor, id: string): Promise<PolicyDraft | undefined> {
  const typed = tables<HubPolicyTables>(db)
  const row = await typed.selectFrom('hub_policy_drafts').selectAll().where('id', '=', id).executeTakeFirst()
  if (row === undefined) return undefined
  const votes = await typed
    .selectFrom('hub_policy_votes')
    .selectAll()
    .where('draft_id', '=', id)
    .orderBy('at')
    .orderBy('user_id')
    .execute()
  return {
    id: row.id,
    text: row.text,
    digest: row.digest,
    proposedBy: row.proposed_by,
    proposedAt: Number(row.proposed_at),
    state: row.state as DraftState,
    votes: votes.map((vote) => ({
      userId: vote.user_id,
      role: vote.role,
      vote: vote.vote as DraftVote['vote'],
      at: Number(vote.at),
    })),
  }
}

async function audit(
  session: WriteSession,
  record: GovernanceAudit,
  events: readonly GovernanceEvent[],
): Promise<void> {
  for (const { event, body } of events) await record(event, body, session)
}

async function apply(session: WriteSession, draft: PolicyDraft, transition: DraftTransition) {
  const db = tables<HubPolicyTables>(session.db)
  if (transition.vote !== undefined) {
    const { userId, role, vote, at } = transition.vote
    await db
      .insertInto('hub_policy_votes')
      .values({ draft_id: draft.id, user_id: userId, role, vote, at })
      .execute()
  }
  if (transition.state !== draft.state) {
    await db
      .updateTable('hub_policy_drafts')
      .set({ state: transition.state })
      .where('id', '=', draft.id)
      .execute()
  }
  if (transition.publish !== undefined) {
    const active = await readActive(session.db)
    await db
      .insertInto('hub_policy_versions')
      .values({
        version: (active?.version ?? 0) + 1,
        text: draft.text,
        digest: draft.digest,
        published_at: transition.publish.at,
        published_by: transition.publish.by,
        draft_id: draft.id,
      })
      .execute()
  }
}

/** The governance store over an open database (migrated with `HUB_POLICY_MIGRATIONS`). */
export function hubPolicyStore(database: StorageDatabase, record: GovernanceAudit): HubPolicyStore {
  return {
    active: () => database.read(readActive),
    draft: (id) => database.read((db) => readDraft(db, id)),
    draftsIn: (state) =>
      database.read(async (db) => {
        const rows = await tables<HubPolicyTables>(db)
          .selectFrom('hub_policy_drafts')
          .select('id')
          .where('state', '=', state)
          .orderBy('proposed_at')
          .orderBy('id')
          .execute()
        const drafts: PolicyDraft[] = []
        for (const row of rows) {
          const draft = await readDraft(db, row.id)
          if (draft !== undefined) drafts.push(draft)
        }
        return drafts
      }),
    createDraft: (draft, events) =>
      database.write(async (session) => {
        await session.lock([GOVERNANCE_LOCK])
        await tables<HubPolicyTables>(session.db)
          .insertInto('hub_policy_drafts')
          .values({
            id: draft.id,
            text: draft.text,
            digest: draft.digest,
            proposed_by: draft.proposedBy,
            proposed_at: draft.proposedAt,
            state: 'draft',
          })
          .execute()
        await audit(session, record, events)
        return { ...draft, state: 'draft' as const, votes: [] }
      }),
    transition: (id, plan) =>
      database.write(async (session) => {
        await session.lock([GOVERNANCE_LOCK])
        const draft = await readDraft(session.db, id)
        if (draft === undefined) throw new NotFound(`no policy draft ${id}`)
        const transition = plan(draft, await readActive(session.db))
        await apply(session, draft, transition)
        await audit(session, record, transition.events)
        return { draft: (await readDraft(session.db, id))!, active: await readActive(session.db) }
      }),
  }
}
