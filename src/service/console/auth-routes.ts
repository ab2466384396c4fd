import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server'
import type { FastifyInstance } from 'fastify'
import type { ConsoleKit, ConsoleShellOptions } from './types.js'
import type { SessionCookie } from './security.js'

/** How long a browser has to answer a challenge. */
export const CHALLENGE_TTL_MS = 5 * 60_000
/** Passkey calls carry a WebAuthn response (a few KiB at most). */
export const PASSKEY_BODY_LIMIT = 64 * 1024

const refused = (message: string) => ({ error: message })

/**
 * Passkey enrolment (with a single-use token from an enrolment link), sign-in and sign-out: the same for
 * every console. Each challenge is random, stored single-use, and the answer is verified against it,
 * the console's origin and rpID, with user verification.
 */
export function consoleAuthRoutes(
  app: FastifyInstance,
  kit: ConsoleKit,
  options: ConsoleShellOptions,
  cookie: SessionCookie,
): void {
  const { prefix, state, passkeys } = kit
  const limit = { bodyLimit: PASSKEY_BODY_LIMIT }

  const startSession = async (
    reply: Parameters<ConsoleKit['page']>[0],
    principal: string,
    credentialId: string,
  ) => {
    const token = kit.randomToken()
    await state.openSession(token, principal, credentialId, options.sessionTtlMs)
    cookie.set(reply, token, options.sessionTtlMs)
    return { ok: true, next: `${prefix}${options.home}` }
  }

  app.get(`${prefix}/sign-in`, (_request, reply) => kit.page(reply, 'shell/sign-in', { title: 'Sign in' }))
  app.get(`${prefix}/enrol`, (_request, reply) =>
    kit.page(reply, 'shell/enrol', { title: 'Enrol a passkey' }),
  )

  app.post<{ Body: { token?: unknown } }>(
    `${prefix}/enrol/options`,
    { ...limit, preHandler: kit.csrf },
    async (request, reply) => {
      const token = typeof request.body?.token === 'string' ? request.body.token : ''
      const principal = token === '' ? undefined : await state.enrolmentPrincipal(token)
      if (principal === undefined || !(await options.admits(principal)))
        return reply
          .code(403)
          .send(refused('this enrolment link is used, expired or unknown: ask for a new one'))
      const id = kit.randomToken()
      const challenge = kit.randomToken()
      await state.saveChallenge({
        id,
        purpose: 'enrol',
        principal,
        challenge,
        context: null,
        ttlMs: CHALLENGE_TTL_MS,
      })
      const existing = await state.credentialsOf(principal)
      return {
        challengeId: id,
        principal,
        options: await passkeys.registrationOptions(principal, challenge, existing),
      }
    },
  )

  app.post<{ Body: { token?: unknown; challengeId?: unknown; response?: RegistrationResponseJSON } }>(
    `${prefix}/enrol`,
    { ...limit, preHandler: kit.csrf },
    async (request, reply) => {
      const { token, challengeId, response } = request.body ?? {}
      if (typeof token !== 'string' || typeof challengeId !== 'string' || response === undefined)
        return reply.code(400).send(refused('incomplete enrolment'))
      const taken = await state.takeChallenge(challengeId, 'enrol')
      const passkey = taken && (await passkeys.verifyRegistration(response, taken.challenge))
      if (taken?.principal == null || passkey === undefined)
        return reply.code(403).send(refused('the passkey could not be verified: start again'))
      await state.enrol(token, { ...passkey, principal: taken.principal })
      return startSession(reply, taken.principal, passkey.credentialId)
    },
  )

  app.post(`${prefix}/sign-in/options`, { ...limit, preHandler: kit.csrf }, async () => {
    const id = kit.randomToken()
    const challenge = kit.randomToken()
    await state.saveChallenge({
      id,
      purpose: 'sign-in',
      principal: null,
      challenge,
      context: null,
      ttlMs: CHALLENGE_TTL_MS,
    })
    return { challengeId: id, options: await passkeys.authenticationOptions(challenge) }
  })

  app.post<{ Body: { challengeId?: unknown; response?: AuthenticationResponseJSON } }>(
    `${prefix}/sign-in`,
    { ...limit, preHandler: kit.csrf },
    async (request, reply) => {
      const { challengeId, response } = request.body ?? {}
      if (typeof challengeId !== 'string' || typeof response?.id !== 'string')
        return reply.code(400).send(refused('incomplete sign-in'))
      const taken = await state.takeChallenge(challengeId, 'sign-in')
      const passkey = await state.credential(response.id)
      const signCount =
        taken && passkey && (await options.admits(passkey.principal))
          ? await passkeys.verifyAuthentication(response, taken.challenge, passkey)
          : undefined
      if (passkey === undefined || signCount === undefined)
        return reply
          .code(403)
          .send(refused('sign-in refused: unknown passkey or an answer that does not verify'))
      await state.recordUse(passkey.credentialId, signCount)
      return startSession(reply, passkey.principal, passkey.credentialId)
    },
  )

  app.post(`${prefix}/sign-out`, { preHandler: kit.csrf }, async (request, reply) => {
    const token = cookie.read(request)
    if (token !== undefined) await state.closeSession(token)
    cookie.clear(reply)
    return reply.redirect(`${prefix}/sign-in`, 303)
  })
}
