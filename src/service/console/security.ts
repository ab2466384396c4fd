import type { FastifyReply, FastifyRequest } from 'fastify'

/**
 * Every console answer's headers: scripts and styles from the console's own files only (no inline script,
 * no eval), no framing, no referrer, nothing sniffed.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
}

export interface SessionCookie {
  readonly csrfName: string
  readonly path: string
  read(request: FastifyRequest): string | undefined
  set(reply: FastifyReply, token: string, ttlMs: number): void
  clear(reply: FastifyReply): void
}

/**
 * The session cookie: HTTP-only, SameSite=Strict, scoped to the console, holding a random 256-bit token
 * the store keeps only hashed (so it needs no signing key, and a session ends everywhere when its row
 * goes). Secure, with the `__Host-` prefix, whenever the console's origin is HTTPS; a plain-HTTP origin is
 * accepted only on loopback (configuration refuses any other), where browsers do not send Secure cookies.
 */
export function sessionCookie(secure: boolean, path: string): SessionCookie {
  // `__Host-` demands Secure and path=/: on HTTPS the cookies are host-only and cannot be planted by a sibling domain.
  const name = secure ? '__Host-countersign-session' : 'countersign-session'
  const options = { httpOnly: true, sameSite: 'strict' as const, secure, path: secure ? '/' : path }
  return {
    csrfName: secure ? '__Host-countersign-csrf' : 'countersign-csrf',
    path: options.path,
    read: (request) => request.cookies[name],
    set: (reply, token, ttlMs) =>
      void reply.setCookie(name, token, { ...options, maxAge: Math.floor(ttlMs / 1000) }),
    clear: (reply) => void reply.clearCookie(name, options),
  }
}
