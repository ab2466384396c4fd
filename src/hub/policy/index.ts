import { randomUUID } from 'node:crypto'
import { isMap, parseDocument } from 'yaml'
import type { Clock } from '../../core/index.js'
import {
  compileTransactionPolicy,
  type PolicyDiagnostic,
  type TransactionPolicy,
} from '../../policy/index.js'
import {
  hubPolicyStore,
  NotFound,
  type DraftTransition,
  type GovernanceAudit,
  type HubPolicyStore,
  type PolicyDraft,
  type PublishedPolicy,
  type StorageDatabase,
} from '../../storage/index.js'
import { API_CODES, HubApiError } from '../rest/api-error.js'
import { mayVoteOnPolicy, type ApiPrincipal } from '../rest/roles.js'

/**
 * Governance of the hub's transaction policy. A change is a draft; it becomes the active policy only with
 * the OWNER's approval AND a quorum of ADMIN approvals (an OWNER does not count towards the admins); one
 * rejection by either rejects it; each user's vote counts once, the proposer's included. A draft that does
 * not compile is never stored. Every step is audited in the write that makes it.
 */
export interface PolicyGovernanceOptions {
  readonly database: StorageDatabase
  /** The hub's audit chain; called inside the governance write with its session. */
  readonly audit: GovernanceAudit
  readonly clock: Pick<Clock, 'now'>
  /** ADMIN approvals a draft needs besides the OWNER's (hub configuration); default 1. */
  readonly adminQuorum?: number
  readonly newDraftId?: () => string
  /** Told when a draft starts awaiting its quorum (the API co-signers of the voters are then asked). */
  readonly onAwaitingQuorum?: (draft: PolicyDraft) => void
}

export type ProposalResult =
  | { readonly ok: true; readonly draft: PolicyDraft; readonly diagnostics: readonly PolicyDiagnostic[] }
  | { readonly ok: false; readonly diagnostics: readonly PolicyDiagnostic[] }

export interface PolicyGovernance {
  /** Proposes a whole policy file. */
  propose(text: string, by: ApiPrincipal): Promise<ProposalResult>
  /** Proposes the active policy with its `rules` replaced (the Fireblocks-style `{ rules }` draft). */
  proposeRules(rules: unknown, by: ApiPrincipal): Promise<ProposalResult>
  /** Asks for publication: the draft awaits its quorum, the caller's approval recorded (it may publish). */
  submit(draftId: string, by: ApiPrincipal): Promise<PolicyDraft>
  approve(draftId: string, by: ApiPrincipal): Promise<PolicyDraft>
  reject(draftId: string, by: ApiPrincipal): Promise<PolicyDraft>
  /**
   * The workspace's first policy, published by its Owner alone (`hub init`): there is no quorum of admins
   * yet to approve it. Refused once any policy has been published.
   */
  bootstrap(text: string, by: ApiPrincipal): Promise<ProposalResult>
  draft(draftId: string): Promise<PolicyDraft | undefined>
  /** The drafts awaiting their quorum, oldest first. */
  awaitingQuorum(): Promise<PolicyDraft[]>
  /** The published record, or `undefined` before the first publication. */
  activeRecord(): Promise<PublishedPolicy | undefined>
  /** The policy the hub decides with: the published one, compiled once per digest; none published → block all. */
  activePolicy(): Promise<TransactionPolicy>
}

/** Before anything is published, no rule matches, and no rule matched → BLOCK. */
export const EMPTY_POLICY_TEXT = 'version: 0\nrules: []\n'

/** Hub policies are whole documents sent over the API: lists are inline, never files on the hub's disk. */
function compileHubPolicy(text: string) {
  return compileTransactionPolicy(text, {
    readListFile: () => {
      throw Object.assign(new Error('list files are not read by the hub'), { code: 'inline lists only' })
    },
  })
}

/** Whether the votes publish the draft: the OWNER's approval and `adminQuorum` distinct ADMIN approvals. */
export function quorumReached(draft: Pick<PolicyDraft, 'votes'>, adminQuorum: number): boolean {
  const approvals = draft.votes.filter((vote) => vote.vote === 'approve')
  const admins = new Set(approvals.filter((vote) => vote.role === 'ADMIN').map((vote) => vote.userId))
  return approvals.some((vote) => vote.role === 'OWNER') && admins.size >= adminQuorum
}

function refuseClosed(draft: PolicyDraft): void {
  if (draft.state === 'published' || draft.state === 'rejected') {
    throw new HubApiError(409, API_CODES.conflict, `policy draft ${draft.id} is already ${draft.state}`)
  }
}

/**
 * The pure governance rule for one vote. A second vote by the same user changes nothing (the same vote) or
 * is refused (a different one); a vote by a role other than OWNER or ADMIN is refused, except that an
 * admin without signing rights may still ask for publication (`submit`), which records no vote.
 */
export function planVote(
  draft: PolicyDraft,
  voter: ApiPrincipal,
  vote: 'approve' | 'reject',
  options: { readonly at: number; readonly adminQuorum: number; readonly submitting: boolean },
): DraftTransition {
  refuseClosed(draft)
  const state = options.submitting ? 'awaiting_quorum' : draft.state
  const body = { draftId: draft.id, digest: draft.digest, userId: voter.id, role: voter.role }
  const submitted = state !== draft.state ? [{ event: 'policy-draft-submitted', body }] : []
  if (!mayVoteOnPolicy(voter.role)) {
    if (options.submitting) return { state, events: submitted }
    throw new HubApiError(403, -8, `a ${voter.role} cannot vote on policy drafts (OWNER or ADMIN only)`)
  }
  const earlier = draft.votes.find((recorded) => recorded.userId === voter.id)
  if (earlier !== undefined) {
    if (earlier.vote !== vote) {
      throw new HubApiError(
        409,
        API_CODES.conflict,
        `${voter.id} already voted ${earlier.vote} on this draft`,
      )
    }
    return { state, events: submitted }
  }
  const recorded = { userId: voter.id, role: voter.role, vote, at: options.at }
  const events = [
    ...submitted,
    { event: `policy-draft-${vote === 'approve' ? 'approved' : 'rejected'}`, body },
  ]
  if (vote === 'reject') return { vote: recorded, state: 'rejected', events }
  if (!quorumReached({ votes: [...draft.votes, recorded] }, options.adminQuorum)) {
    return { vote: recorded, state, events }
  }
  return {
    vote: recorded,
    state: 'published',
    publish: { at: options.at, by: voter.id },
    events: [...events, { event: 'policy-published', body: { draftId: draft.id, digest: draft.digest } }],
  }
}

/** `text` with its top-level `rules` replaced, comments and other sections kept. */
function withRules(text: string, rules: unknown): string {
  const document = parseDocument(text)
  if (!isMap(document.contents)) return EMPTY_POLICY_TEXT
  document.set('rules', document.createNode(rules))
  return document.toString()
}

export function createPolicyGovernance(options: PolicyGovernanceOptions): PolicyGovernance {
  const store: HubPolicyStore = hubPolicyStore(options.database, options.audit)
  const adminQuorum = options.adminQuorum ?? 1
  const newDraftId = options.newDraftId ?? randomUUID
  let cached: { readonly digest: string; readonly policy: TransactionPolicy } | undefined

  const propose = async (text: string, by: ApiPrincipal): Promise<ProposalResult> => {
    const { policy, diagnostics } = compileHubPolicy(text)
    if (policy === undefined) return { ok: false, diagnostics }
    const draft = {
      id: newDraftId(),
      text,
      digest: policy.digest,
      proposedBy: by.id,
      proposedAt: options.clock.now(),
    }
    const body = { draftId: draft.id, digest: draft.digest, userId: by.id, role: by.role }
    return {
      ok: true,
      draft: await store.createDraft(draft, [{ event: 'policy-draft-proposed', body }]),
      diagnostics,
    }
  }

  const vote = async (
    draftId: string,
    by: ApiPrincipal,
    choice: 'approve' | 'reject',
    submitting: boolean,
  ) => {
    const at = options.clock.now()
    const planned = (draft: PolicyDraft) => planVote(draft, by, choice, { at, adminQuorum, submitting })
    try {
      return (await store.transition(draftId, planned)).draft
    } catch (error) {
      if (error instanceof NotFound) {
        throw new HubApiError(404, API_CODES.notFound, `no policy draft ${draftId}`)
      }
      throw error
    }
  }

  return {
    propose,
    proposeRules: async (rules, by) => {
      const active = await store.active()
      return propose(withRules(active?.text ?? EMPTY_POLICY_TEXT, rules), by)
    },
    bootstrap: async (text, by) => {
      const proposal = await propose(text, by)
      if (!proposal.ok) return proposal
      const at = options.clock.now()
      const { draft } = await store.transition(proposal.draft.id, (_draft, active) => {
        if (active !== undefined)
          throw new HubApiError(409, API_CODES.conflict, 'the workspace already has a published policy')
        return {
          state: 'published',
          publish: { at, by: by.id },
          events: [{ event: 'policy-bootstrap', body: { draftId: proposal.draft.id, userId: by.id } }],
        }
      })
      return { ...proposal, draft }
    },
    submit: async (draftId, by) => {
      const draft = await vote(draftId, by, 'approve', true)
      if (draft.state === 'awaiting_quorum') options.onAwaitingQuorum?.(draft)
      return draft
    },
    approve: (draftId, by) => vote(draftId, by, 'approve', false),
    reject: (draftId, by) => vote(draftId, by, 'reject', false),
    draft: (draftId) => store.draft(draftId),
    awaitingQuorum: () => store.draftsIn('awaiting_quorum'),
    activeRecord: () => store.active(),
    activePolicy: async () => {
      const active = await store.active()
      const text = active?.text ?? EMPTY_POLICY_TEXT
      const digest = active?.digest ?? 'empty'
      if (cached?.digest !== digest) {
        const { policy } = compileHubPolicy(text)
        // A published text compiled when it was proposed; should the engine refuse it now, block everything.
        cached = { digest, policy: policy ?? compileHubPolicy(EMPTY_POLICY_TEXT).policy! }
      }
      return cached.policy
    },
  }
}
