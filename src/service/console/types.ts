import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler, preHandlerHookHandler } from 'fastify'
import type { EventSource } from './events.js'
import type { PasskeyCeremonies, RelyingParty, StoredPasskey } from './passkeys.js'

/**
 * What the shell needs of a console's durable state; the console capability of src/storage provides it
 * (each service passes its own store's).
 */
export interface ConsoleState {
  enrolmentPrincipal(token: string): Promise<string | undefined>
  enrol(token: string, passkey: StoredPasskey & { readonly principal: string }): Promise<unknown>
  credential(credentialId: string): Promise<(StoredPasskey & { readonly principal: string }) | undefined>
  credentialsOf(principal: string): Promise<readonly StoredPasskey[]>
  recordUse(credentialId: string, signCount: number): Promise<void>
  saveChallenge(challenge: {
    readonly id: string
    readonly purpose: string
    readonly principal: string | null
    readonly challenge: string
    readonly context: unknown
    readonly ttlMs: number
  }): Promise<void>
  takeChallenge(
    id: string,
    purpose: string,
  ): Promise<
    { readonly principal: string | null; readonly challenge: string; readonly context: unknown } | undefined
  >
  openSession(token: string, principal: string, credentialId: string, ttlMs: number): Promise<void>
  session(token: string): Promise<{ readonly principal: string } | undefined>
  closeSession(token: string): Promise<void>
}

export interface ConsoleShellOptions {
  /** Where the console's pages live, e.g. `/console`. */
  readonly prefix: string
  readonly party: RelyingParty
  readonly state: ConsoleState
  /** Whether `principal` may use the console now (checked on every request: removal takes effect at once). */
  readonly admits: (principal: string) => Promise<boolean>
  /** The page signed-in users land on, below the prefix (e.g. `/`). */
  readonly home: string
  /** How long a session lasts. */
  readonly sessionTtlMs: number
  /** The header's links for a signed-in user, below the prefix (e.g. `{ href: '/', label: 'Pending' }`). */
  readonly nav: readonly ConsoleNavItem[]
}

export interface ConsoleNavItem {
  readonly href: string
  readonly label: string
}

/** What a console's own routes get from the shell. */
export interface ConsoleKit {
  readonly prefix: string
  readonly passkeys: PasskeyCeremonies
  readonly state: ConsoleState
  /** preHandler: a session whose principal is still admitted; pages redirect to sign-in, the rest get 401. */
  readonly signedIn: preHandlerAsyncHookHandler
  /** preHandler: the request carries the page's CSRF token (form field `_csrf` or header `x-csrf-token`). */
  readonly csrf: preHandlerHookHandler
  /** The signed-in principal (after `signedIn`). */
  principalOf(request: FastifyRequest): string
  /** Renders `template` (under console/views) in the shell's layout, with a fresh CSRF token. */
  page(reply: FastifyReply, template: string, data: Record<string, unknown>): Promise<FastifyReply>
  /** A new random token, 256 bits, base64url. */
  randomToken(): string
  /** Answers with server-sent events from `source` until the browser leaves or the server stops. */
  stream(request: FastifyRequest, reply: FastifyReply, source: EventSource): void
}
