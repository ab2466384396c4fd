import {
  checkPasskeyVote,
  encodePasskeyVote,
  passkeyVoteChallenge,
  type VoteFacts,
} from '../../keys/index.js'
import {
  CHALLENGE_TTL_MS,
  PASSKEY_BODY_LIMIT,
  type ConsoleKit,
  type ServiceApp,
} from '../../service/index.js'
import { NotFound, StoreConflict, VoteRefused, type Route, type Store } from '../../storage/index.js'

interface VoteParams {
  route: string
  requestId: string
}

interface WebAuthnAssertion {
  id: string
  response: { authenticatorData: string; clientDataJSON: string; signature: string }
}

const refused = (error: string) => ({ error })

function isAssertion(value: unknown): value is WebAuthnAssertion {
  const candidate = value as WebAuthnAssertion | undefined
  const response = candidate?.response
  return (
    typeof candidate?.id === 'string' &&
    typeof response?.authenticatorData === 'string' &&
    typeof response.clientDataJSON === 'string' &&
    typeof response.signature === 'string'
  )
}

/** What a store refusal tells the approver; anything else is the server's fault (500, logged). */
function refusalOf(error: unknown): { status: number; message: string } | undefined {
  if (error instanceof VoteRefused) return { status: 403, message: error.message }
  if (error instanceof StoreConflict || error instanceof NotFound)
    return { status: 409, message: error.message }
  return undefined
}

/**
 * A console vote, in two calls. `options`: the server checks the approver may vote on the held request
 * (named by its rule: the same check `castVote` makes again), fixes the vote's facts and issues a
 * single-use challenge that binds them. `vote`: the passkey's assertion is verified (origin, rpID, user
 * verification, counter), then recorded by `castVote`, which verifies it once more as a vote (as it
 * verifies a signed CLI vote) and audits it with the assertion.
 */
export function voteRoutes(app: ServiceApp, kit: ConsoleKit, store: Store, now: () => number): void {
  const path = `${kit.prefix}/requests/:route/:requestId/vote`
  const guards = { bodyLimit: PASSKEY_BODY_LIMIT, preHandler: [kit.signedIn, kit.csrf] }

  app.post<{ Params: VoteParams; Body: { decision?: unknown; reason?: unknown } }>(
    `${path}/options`,
    guards,
    async (request, reply) => {
      const approver = kit.principalOf(request)
      const { route, requestId } = request.params
      const decision = request.body?.decision
      const reason = typeof request.body?.reason === 'string' ? request.body.reason.trim() : ''
      if (decision !== 'approve' && decision !== 'reject')
        return reply.code(400).send(refused('approve or reject?'))
      if (decision === 'reject' && reason === '')
        return reply.code(400).send(refused('a rejection needs a reason: it is sent to the co-signer'))
      const held = (await store.listHeld()).find(
        (item) => item.route === route && item.requestId === requestId,
      )
      if (held === undefined)
        return reply.code(409).send(refused(`request ${requestId} is not awaiting approval`))
      if (!held.hold.approvers.includes(approver))
        return reply
          .code(403)
          .send(
            refused(
              `${approver} is not an approver of rule ${held.ruleId ?? '-'} (approvers: ${held.hold.approvers.join(', ')})`,
            ),
          )
      const facts: VoteFacts = {
        route: held.route,
        requestId,
        payloadDigest: held.payloadDigest,
        decision,
        approver,
        reason: reason === '' ? null : reason,
        signedAt: now(),
      }
      const nonce = kit.randomToken()
      const challenge = passkeyVoteChallenge(facts, nonce)
      const id = kit.randomToken()
      await kit.state.saveChallenge({
        id,
        purpose: 'vote',
        principal: approver,
        challenge,
        context: { facts, nonce },
        ttlMs: CHALLENGE_TTL_MS,
      })
      const passkeys = await kit.state.credentialsOf(approver)
      return { challengeId: id, options: await kit.passkeys.authenticationOptions(challenge, passkeys) }
    },
  )

  app.post<{ Params: VoteParams; Body: { challengeId?: unknown; response?: unknown } }>(
    path,
    guards,
    async (request, reply) => {
      const approver = kit.principalOf(request)
      const { challengeId, response } = request.body ?? {}
      if (typeof challengeId !== 'string' || !isAssertion(response))
        return reply.code(400).send(refused('incomplete vote'))
      const taken = await kit.state.takeChallenge(challengeId, 'vote')
      const { facts, nonce } = (taken?.context ?? {}) as { facts?: VoteFacts; nonce?: string }
      const passkey = await kit.state.credential(response.id)
      const forThisRequest =
        taken?.principal === approver &&
        facts?.route === request.params.route &&
        facts.requestId === request.params.requestId &&
        passkey?.principal === approver
      const signCount = forThisRequest
        ? await kit.passkeys.verifyAuthentication(response as never, taken.challenge, passkey)
        : undefined
      if (!forThisRequest || signCount === undefined || facts === undefined || nonce === undefined)
        return reply
          .code(403)
          .send(
            refused('vote refused: the passkey answer is not valid for this vote (used, expired or forged)'),
          )
      const signature = encodePasskeyVote({ nonce, ...response.response })
      try {
        await store.castVote(
          { route: facts.route as Route, requestId: facts.requestId },
          { ...facts, route: facts.route as Route, signature, credentialId: passkey.credentialId },
          checkPasskeyVote,
        )
      } catch (error) {
        const refusal = refusalOf(error)
        if (refusal === undefined) throw error
        return reply.code(refusal.status).send(refused(refusal.message))
      }
      await kit.state.recordUse(passkey.credentialId, signCount)
      const what = facts.decision === 'approve' ? 'Approval' : 'Rejection'
      return {
        ok: true,
        message: `${what} by ${approver} verified and recorded; the co-signer's next retry gets the decision.`,
      }
    },
  )
}
