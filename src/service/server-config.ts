import { isIP } from 'node:net'
import { z } from 'zod'
import { parseDuration } from '../core/index.js'
import {
  parseListen,
  readTlsMaterial,
  resolveAdmin,
  type adminSchema,
  type AdminAddress,
  type ListenAddress,
} from './config-fields.js'
import type { CompileContext } from './load-config.js'
import { DEFAULT_SERVER_LIMITS, type ServerLimits } from './server-limits.js'

/**
 * The configuration every server shares — where it listens, its admin listener, its connection limits —
 * checked the same way in each service's file, with the key path and the fix of every problem.
 */
const durationText = z.string().optional()

export const limitsSchema = z
  .strictObject({
    maxConnections: z.number().int().min(1).optional(),
    requestTimeout: durationText,
    headersTimeout: durationText,
    keepAliveTimeout: durationText,
    idleTimeout: durationText,
    drainTimeout: durationText,
  })
  .default({})

type RawLimits = z.output<typeof limitsSchema>

/** A core parser's value, or `undefined` where it refuses the text: the caller reports the problem at its key. */
export function unlessRefused<T>(parse: () => T): T | undefined {
  try {
    return parse()
  } catch {
    return undefined
  }
}

export function compileListen(raw: string, context: CompileContext): ListenAddress | undefined {
  const listen = parseListen(raw)
  if (!listen) context.problem('listen', `"${raw}" is not HOST:PORT`, 'write e.g. 0.0.0.0:8443')
  return listen
}

export function compileAdmin(
  raw: z.output<typeof adminSchema> | undefined,
  listen: ListenAddress | undefined,
  context: CompileContext,
): AdminAddress | undefined {
  if (!raw) return undefined
  const admin = resolveAdmin(raw, context.baseDir)
  if (!admin) {
    context.problem('admin.listen', `"${raw.listen}" is not HOST:PORT`, 'write e.g. 127.0.0.1:9090')
    return undefined
  }
  if (admin.port !== 0 && admin.port === listen?.port && admin.host === listen.host)
    context.problem('admin.listen', 'is the address of `listen`', 'give the admin listener a port of its own')
  const tls = admin.tls
  if (tls)
    context.attempt('admin.tls', 'give readable PEM files: admin.tls.cert and admin.tls.key', () =>
      readTlsMaterial(tls),
    )
  return admin
}

export function compileLimits(raw: RawLimits, context: CompileContext): ServerLimits {
  const durationOf = (key: Exclude<keyof RawLimits, 'maxConnections'>, fallback: number) => {
    const text = raw[key]
    if (text === undefined) return fallback
    const ms = unlessRefused(() => parseDuration(text))
    if (ms === undefined || ms <= 0)
      context.problem(`limits.${key}`, `"${text}" is not a duration`, 'write e.g. 10s')
    return ms ?? fallback
  }
  const requestTimeoutMs = durationOf('requestTimeout', DEFAULT_SERVER_LIMITS.requestTimeoutMs)
  const limits: ServerLimits = {
    maxConnections: raw.maxConnections ?? DEFAULT_SERVER_LIMITS.maxConnections,
    requestTimeoutMs,
    // Node refuses headers that may take longer than the whole request.
    headersTimeoutMs: durationOf(
      'headersTimeout',
      Math.min(DEFAULT_SERVER_LIMITS.headersTimeoutMs, requestTimeoutMs),
    ),
    keepAliveTimeoutMs: durationOf('keepAliveTimeout', DEFAULT_SERVER_LIMITS.keepAliveTimeoutMs),
    idleTimeoutMs: durationOf('idleTimeout', DEFAULT_SERVER_LIMITS.idleTimeoutMs),
    drainTimeoutMs: durationOf('drainTimeout', DEFAULT_SERVER_LIMITS.drainTimeoutMs),
  }
  if (limits.headersTimeoutMs > limits.requestTimeoutMs)
    context.problem(
      'limits.headersTimeout',
      'is longer than limits.requestTimeout',
      'make it shorter or equal',
    )
  return limits
}

/** `console:` of a service that serves a web console on its admin listener (the handler's, the hub's). */
export const consoleSchema = z.strictObject({ origin: z.string(), sessionTtl: z.string().default('8h') })

export interface ConsoleConfig {
  /** What the console's users open (scheme, host, port): the passkeys' origin; its host is their rpID. */
  readonly origin: string
  readonly rpId: string
  readonly sessionTtlMs: number
}

/**
 * The console's origin: HTTPS, or plain HTTP on localhost only (a development machine: browsers treat it as a
 * secure context, and nobody else can reach it). Passkeys are bound to its host, so it must be the address
 * its users use (behind a TLS proxy, the proxy's), and a domain name: browsers refuse passkeys on an IP
 * address ("This is an invalid domain"). It needs the admin listener, where it is served.
 */
export function compileConsole(
  raw: z.output<typeof consoleSchema> | undefined,
  admin: AdminAddress | undefined,
  context: CompileContext,
): ConsoleConfig | undefined {
  if (raw === undefined) return undefined
  if (admin === undefined)
    context.problem('console', 'is served on the admin listener, which is not configured', 'add admin.listen')
  const url = unlessRefused(() => new URL(raw.origin))
  const refusal = originRefusal(raw.origin, url)
  if (refusal !== undefined)
    context.problem(
      'console.origin',
      refusal,
      'write e.g. https://approvals.example.com, or http://localhost:9090 on a development machine',
    )
  const sessionTtlMs = unlessRefused(() => parseDuration(raw.sessionTtl, 'console.sessionTtl'))
  if (sessionTtlMs === undefined)
    context.problem('console.sessionTtl', `"${raw.sessionTtl}" is not a duration`, 'write e.g. 8h')
  return { origin: url?.origin ?? '', rpId: url?.hostname ?? '', sessionTtlMs: sessionTtlMs ?? 0 }
}

function originRefusal(text: string, url: URL | undefined): string | undefined {
  const originAlone = url !== undefined && url.origin === text.replace(/\/$/, '')
  if (originAlone && isIP(url.hostname.replace(/^\[(.*)\]$/, '$1')) !== 0)
    return `"${text}" names an IP address: browsers use passkeys on a domain name only`
  const secure = url?.protocol === 'https:' || (url?.protocol === 'http:' && url.hostname === 'localhost')
  if (!originAlone || !secure) return `"${text}" is not an https:// origin (plain http:// only on localhost)`
  return undefined
}
