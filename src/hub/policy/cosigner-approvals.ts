import { createPublicKey, verify } from 'node:crypto'
import type { Logger } from 'pino'
import { canonicalJson } from '../../core/index.js'
import { describeError } from '../../service/index.js'
import {
  listApiUsers,
  type HubLinkStore,
  type LinkJob,
  type PolicyDraft,
  type StorageDatabase,
} from '../../storage/index.js'
import type { LinkHub, LinkResult } from '../link/index.js'
import { resultText } from '../signing/result-field.js'
import { mayVoteOnPolicy, type ApiPrincipal, type Role } from '../rest/roles.js'
import type { PolicyGovernance } from './index.js'

/**
 * Policy approvals by API co-signers. A draft awaiting its quorum is sent, as a `config` job, to the co-signer
 * of every OWNER or ADMIN API user that is paired and has not voted; the co-signer asks its callback handler
 * (a `config_change_sign_request` of type POLICY_APPROVAL) and, on APPROVE, signs the statement below with
 * the API user's configuration-change key, registered at pairing. Only a signature that verifies under that
 * key counts as the API user's approval; a REJECT is its rejection; a failure is no vote at all.
 */
export interface CosignerApprovalsOptions {
  readonly db: StorageDatabase
  readonly link: LinkHub
  readonly parties: HubLinkStore
  readonly governance: Pick<PolicyGovernance, 'approve' | 'reject' | 'draft'>
  readonly log: Logger
  /** Aborted when the hub stops: the waits end, the jobs stay (a co-signer's late answer is then ignored). */
  readonly signal: AbortSignal
}

export const configJobId = (draftId: string, userId: string): string => `config:${draftId}:${userId}`

/** What a co-signer signs to approve a draft for its API user: the draft's exact text, by its digest. */
export function approvalStatement(draft: Pick<PolicyDraft, 'id' | 'digest'>, userId: string) {
  return { type: 'POLICY_APPROVAL', draftId: draft.id, digest: draft.digest, userId, decision: 'APPROVE' }
}

export class CosignerApprovals {
  readonly #options: CosignerApprovalsOptions

  constructor(options: CosignerApprovalsOptions) {
    this.#options = options
  }

  /** Asks each eligible voter's co-signer about `draft`; the answers are voted as they come. */
  async request(draft: PolicyDraft): Promise<void> {
    const { db, parties, link } = this.#options
    const voted = new Set(draft.votes.map((vote) => vote.userId))
    const users = (await db.read(listApiUsers)).filter(
      (user) => user.enabled && mayVoteOnPolicy(user.role) && !voted.has(user.id),
    )
    for (const user of users) {
      const party = await parties.party(user.id)
      if (party === undefined || party.revokedAt !== null || party.configKey === null) continue
      const statement = approvalStatement(draft, user.id)
      const rulesCount = (draft.text.match(/^\s*- id:/gm) ?? []).length
      const job = await link.startPartyJob({
        id: configJobId(draft.id, user.id),
        kind: 'config',
        holder: user.id,
        body: {
          requestId: `${draft.id}.${user.id}`,
          payload: {
            requestId: `${draft.id}.${user.id}`,
            type: 'POLICY_APPROVAL',
            extraInfo: { policyType: 'TRANSFER', rulesCount, draftId: draft.id, digest: draft.digest },
            signerId: user.id,
          },
          statement,
        },
      })
      void this.#vote(job, { id: user.id, name: user.name, role: user.role as Role }, draft.id)
    }
  }

  /** A `done` result of a `config` job is genuine only if its signature verifies under the party's key. */
  async verify(job: LinkJob, result: LinkResult): Promise<boolean> {
    const [, draftId, userId] = job.id.split(':')
    const party = userId === undefined ? undefined : await this.#options.parties.party(userId)
    const signature = typeof result.signature === 'string' ? result.signature : undefined
    if (draftId === undefined || party?.configKey == null || signature === undefined) return false
    const digest = (await this.#draftDigest(draftId)) ?? ''
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: party.configKey }, format: 'jwk' })
    const message = Buffer.from(canonicalJson(approvalStatement({ id: draftId, digest }, party.name)))
    return verify(null, message, key, Buffer.from(signature, 'hex'))
  }

  async #draftDigest(draftId: string): Promise<string | undefined> {
    return (await this.#options.governance.draft(draftId))?.digest
  }

  async #vote(job: LinkJob, principal: ApiPrincipal, draftId: string): Promise<void> {
    const { link, governance, log, signal } = this.#options
    const voter = principal
    try {
      const answered = await link.waitForJob(job.id, signal)
      if (answered.state === 'done') await governance.approve(draftId, principal)
      else if (answered.state === 'declined') await governance.reject(draftId, principal)
      else
        log.warn(
          { draftId, userId: voter.id, reason: resultText(answered.result, 'reason') },
          'no vote by co-signer',
        )
    } catch (error) {
      if (!signal.aborted)
        log.error(
          { draftId, userId: voter.id, cause: describeError(error) },
          'a co-signer vote was not recorded',
        )
    }
  }
}
