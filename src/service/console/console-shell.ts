import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import type { PasskeyCeremonies } from './passkeys.js'
import type { ConsoleKit, ConsoleShellOptions } from './types.js'
export type { ConsoleKit, ConsoleNavItem, ConsoleShellOptions, ConsoleState } from './types.js'
import { consoleAuthRoutes } from './auth-routes.js'
import { eventStreams } from './events.js'
import { SECURITY_HEADERS, sessionCookie, type SessionCookie } from './security.js'

/** console/ at the package root: templates and browser assets (from src/service/console and dist/service/console alike). */
const CONSOLE_DIR = fileURLToPath(new URL('../../../console/', import.meta.url))
/** The passkey ceremonies in the browser, as @simplewebauthn/browser ships them (a UMD bundle). */
const WEBAUTHN_BUNDLE = fileURLToPath(
  new URL('../dist/bundle/index.umd.min.js', import.meta.resolve('@simplewebauthn/browser')),
)
const ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  'console.css': { file: `${CONSOLE_DIR}assets/console.css`, type: 'text/css; charset=utf-8' },
  'console.js': { file: `${CONSOLE_DIR}assets/console.js`, type: 'text/javascript; charset=utf-8' },
  'webauthn.js': { file: WEBAUTHN_BUNDLE, type: 'text/javascript; charset=utf-8' },
}

const SESSION_PRINCIPAL = Symbol('console principal')
type WithPrincipal = FastifyRequest & { [SESSION_PRINCIPAL]?: string }

export const randomToken = () => randomBytes(32).toString('base64url')

/** A request for a page (a browser navigation) rather than a call from the console's script. */
const wantsPage = (request: FastifyRequest) => request.method === 'GET' && !request.url.includes('/events')

function serveAssets(app: FastifyInstance, prefix: string): void {
  app.get<{ Params: { name: string } }>(`${prefix}/assets/:name`, async (request, reply) => {
    const asset = ASSETS[request.params.name]
    if (asset === undefined) return reply.code(404).send('')
    reply.header('content-type', asset.type).header('cache-control', 'no-cache')
    return readFile(asset.file)
  })
}

/**
 * The console's Fastify plugins, template engine and passkey ceremonies: loaded only by a service that
 * serves a console, so that every other command and service starts without them.
 */
async function consoleModules() {
  const [cookie, formbody, csrf, view, eta, passkeys] = await Promise.all([
    import('@fastify/cookie'),
    import('@fastify/formbody'),
    import('@fastify/csrf-protection'),
    import('@fastify/view'),
    import('eta'),
    import('./passkeys.js'),
  ])
  return {
    fastifyCookie: cookie.default,
    fastifyFormbody: formbody.default,
    fastifyCsrf: csrf.default,
    fastifyView: view.default,
    Eta: eta.Eta,
    PasskeyCeremonies: passkeys.PasskeyCeremonies,
  }
}

function kitOf(
  app: FastifyInstance,
  options: ConsoleShellOptions,
  cookie: SessionCookie,
  passkeys: PasskeyCeremonies,
): ConsoleKit {
  const { prefix, state } = options
  const signedIn: preHandlerAsyncHookHandler = async (request, reply) => {
    const token = cookie.read(request)
    const session = token === undefined ? undefined : await state.session(token)
    if (session !== undefined && (await options.admits(session.principal))) {
      ;(request as WithPrincipal)[SESSION_PRINCIPAL] = session.principal
      return
    }
    if (wantsPage(request)) return reply.redirect(`${prefix}/sign-in`, 303)
    return reply.code(401).send({ error: 'sign in first' })
  }
  return {
    prefix,
    passkeys,
    state,
    signedIn,
    csrf: app.csrfProtection.bind(app),
    principalOf: (request) => {
      const principal = (request as WithPrincipal)[SESSION_PRINCIPAL]
      if (principal === undefined) throw new Error('principalOf called before signedIn')
      return principal
    },
    page: async (reply, template, data) => {
      const csrfToken = reply.generateCsrf()
      const principal = (reply.request as WithPrincipal)[SESSION_PRINCIPAL] ?? null
      return reply
        .header('cache-control', 'no-store')
        .type('text/html; charset=utf-8')
        .view(template, {
          ...data,
          csrfToken,
          principal,
          prefix,
          rpName: options.party.name,
          nav: options.nav,
        })
    },
    randomToken,
    stream: eventStreams(app),
  }
}

/**
 * The shell of every web console (the handler's approvals today; the hub's workspace next): server-rendered
 * pages (@fastify/view with eta), sessions in an HTTP-only SameSite=Strict cookie whose token only the
 * store knows (hashed), CSRF tokens on every form and call, a strict Content-Security-Policy (scripts from
 * files only), passkey sign-in and enrolment. `routes` adds the console's own pages with the kit.
 */
export function consoleShell(
  options: ConsoleShellOptions,
  routes: (app: FastifyInstance, kit: ConsoleKit) => void,
): (app: FastifyInstance) => Promise<void> {
  return async (app) => {
    const { fastifyCookie, fastifyFormbody, fastifyCsrf, fastifyView, Eta, PasskeyCeremonies } =
      await consoleModules()
    const secure = new URL(options.party.origin).protocol === 'https:'
    const cookie = sessionCookie(secure, options.prefix)
    await app.register(fastifyCookie)
    await app.register(fastifyFormbody)
    await app.register(fastifyCsrf, {
      sessionPlugin: '@fastify/cookie',
      cookieKey: cookie.csrfName,
      cookieOpts: { httpOnly: true, sameSite: 'strict', secure, path: cookie.path, signed: false },
    })
    await app.register(fastifyView, {
      engine: { eta: new Eta({ views: `${CONSOLE_DIR}views`, autoEscape: true }) },
      root: `${CONSOLE_DIR}views`,
      production: true,
    })
    app.addHook('onSend', async (_request, reply) => {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value)
    })
    serveAssets(app, options.prefix)
    const kit = kitOf(app, options, cookie, new PasskeyCeremonies(options.party))
    consoleAuthRoutes(app, kit, options, cookie)
    routes(app, kit)
  }
}
