import { createHash } from 'node:crypto'
import { canonicalJson, type Clock } from '../../core/index.js'
import {
  CHALLENGE_TTL_MS,
  PASSKEY_BODY_LIMIT,
  type ConsoleKit,
  type ServiceApp,
} from '../../service/index.js'
import { findApiUser, type StorageDatabase } from '../../storage/index.js'
import { approvalStatement } from '../policy/cosigner-approvals.js'
import type { PolicyGovernance } from '../policy/index.js'
import { API_CODES, HubApiError } from '../rest/api-error.js'
import { mayVoteOnPolicy, type ApiPrincipal, type Role } from '../rest/roles.js'
import { performer } from './actions.js'
import { consoleUser } from './console-users.js'

const PURPOSE = 'policy-vote'

interface VoteFacts {
  readonly draftId: string
  readonly digest: string
  readonly userId: string
  readonly decision: 'approve' | 'reject'
  readonly principal: string
  readonly reason: string
}

/**
 * What the passkey signs: the statement an API co-signer signs to approve a draft (its id, the digest of its
 * exact text, the API user), with the decision, the person and their reason, and a server nonce. The
 * challenge is its SHA-256: the assertion binds exactly that decision on exactly that draft.
 */
function voteChallenge(facts: VoteFacts, nonce: string): string {
  const statement = {
    ...approvalStatement({ id: facts.draftId, digest: facts.digest }, facts.userId),
    decision: facts.decision.toUpperCase(),
    principal: facts.principal,
    reason: facts.reason,
    nonce,
  }
  return createHash('sha256').update(canonicalJson(statement)).digest('base64url')
}

const refused = (status: number, message: string) => new HubApiError(status, API_CODES.validation, message)

/** The API user a console user votes as, checked now: enabled, OWNER or ADMIN. */
async function voterOf(db: StorageDatabase, apiUserId: string | null): Promise<ApiPrincipal> {
  const user = apiUserId === null ? undefined : await db.read((reader) => findApiUser(reader, apiUserId))
  if (user === undefined || !user.enabled || !mayVoteOnPolicy(user.role))
    throw refused(
      403,
      'you vote on policy drafts as no enabled OWNER or ADMIN API user (hub console-link --api-user)',
    )
  return { id: user.id, name: user.name, role: user.role as Role }
}

/**
 * Policy drafts approved or rejected with a passkey, in two calls like the approvals console's votes.
 * `options` fixes the facts and a single-use challenge that binds them; `vote` verifies the assertion (the
 * person's own passkey, origin, rpID, user verification, counter) and records the decision through the
 * hub's governance as the API user the person was bound to (`hub console-link --api-user`): so it counts
 * once per API user, in that API user's role, as a vote through the API would.
 */
export function policyVoteRoutes(
  app: ServiceApp,
  kit: ConsoleKit,
  options: { readonly db: StorageDatabase; readonly clock: Clock; readonly governance: PolicyGovernance },
): void {
  const { db, governance } = options
  const perform = performer(kit, options)
  const path = `${kit.prefix}/policy/drafts/:draftId/vote`
  const guards = { bodyLimit: PASSKEY_BODY_LIMIT, preHandler: [kit.signedIn, kit.csrf] }

  app.post<{ Params: { draftId: string }; Body: { decision?: unknown; reason?: unknown } }>(
    `${path}/options`,
    guards,
    async (request, reply) => {
      const principal = kit.principalOf(request)
      const decision = request.body?.decision
      const reason = typeof request.body?.reason === 'string' ? request.body.reason.trim() : ''
      if (decision !== 'approve' && decision !== 'reject')
        return reply.code(400).send({ error: 'approve or reject?' })
      const user = await consoleUser(db, principal)
      let voter: ApiPrincipal
      try {
        voter = await voterOf(db, user?.apiUserId ?? null)
      } catch (error) {
        if (!(error instanceof HubApiError)) throw error
        return reply.code(error.statusCode).send({ error: error.message })
      }
      const draft = await governance.draft(request.params.draftId)
      if (draft?.state !== 'awaiting_quorum')
        return reply.code(409).send({ error: `draft ${request.params.draftId} is not awaiting its quorum` })
      const facts: VoteFacts = {
        draftId: draft.id,
        digest: draft.digest,
        userId: voter.id,
        decision,
        principal,
        reason,
      }
      const nonce = kit.randomToken()
      const challenge = voteChallenge(facts, nonce)
      const id = kit.randomToken()
      await kit.state.saveChallenge({
        id,
        purpose: PURPOSE,
        principal,
        challenge,
        context: facts,
        ttlMs: CHALLENGE_TTL_MS,
      })
      const passkeys = await kit.state.credentialsOf(principal)
      return { challengeId: id, options: await kit.passkeys.authenticationOptions(challenge, passkeys) }
    },
  )

  app.post<{ Params: { draftId: string }; Body: { challengeId?: unknown; response?: { id?: unknown } } }>(
    path,
    guards,
    async (request, reply) => {
      const principal = kit.principalOf(request)
      const { challengeId, response } = request.body ?? {}
      if (typeof challengeId !== 'string' || typeof response?.id !== 'string')
        return reply.code(400).send({ error: 'incomplete vote' })
      const taken = await kit.state.takeChallenge(challengeId, PURPOSE)
      const facts = taken?.context as VoteFacts | undefined
      const passkey = await kit.state.credential(response.id)
      const forThisDraft =
        taken?.principal === principal &&
        facts?.draftId === request.params.draftId &&
        passkey?.principal === principal
      const signCount = forThisDraft
        ? await kit.passkeys.verifyAuthentication(response as never, taken.challenge, passkey)
        : undefined
      if (!forThisDraft || signCount === undefined || facts === undefined)
        return reply.code(403).send({
          error: 'vote refused: the passkey answer is not valid for this vote (used, expired or forged)',
        })
      await kit.state.recordUse(passkey.credentialId, signCount)
      const done = await perform(
        request,
        `${facts.decision}-policy-draft`,
        {
          draftId: facts.draftId,
          digest: facts.digest,
          apiUserId: facts.userId,
          credentialId: passkey.credentialId,
          reason: facts.reason,
        },
        mayVoteOnPolicy,
        async () => {
          const voter = await voterOf(db, facts.userId)
          const draft = await governance.draft(facts.draftId)
          if (draft?.digest !== facts.digest) throw refused(409, 'the draft is not the one you signed for')
          return facts.decision === 'approve'
            ? governance.approve(facts.draftId, voter)
            : governance.reject(facts.draftId, voter)
        },
        (draft) => ({ state: draft.state }),
      )
      if (!done.ok) return reply.code(done.status).send({ error: done.error })
      return {
        ok: true,
        message: `${facts.decision === 'approve' ? 'Approval' : 'Rejection'} by ${principal} verified and recorded: the draft is ${done.value.state.replace('_', ' ')}.`,
      }
    },
  )
}
