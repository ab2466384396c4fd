import { readFileSync } from 'node:fs'
import { isAbsolute, resolve, dirname } from 'node:path'
import type { KeyObject } from 'node:crypto'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import {
  CountersignError,
  describeFileError,
  formatZodIssues,
  isDuration,
  parseDuration,
  parseSize,
} from '../core/index.js'
import {
  importRsaPrivateKey,
  importRsaPublicKey,
  normalizeBasePath,
  type AuthMode,
} from '../protocol/index.js'
import { ConfigInvalid } from './errors.js'

/**
 * The handler's configuration: one YAML file, checked for shape (zod) and then for meaning (files that
 * must exist, keys that must be strong RSA keys), with every problem named by its key path and its fix.
 * `${VAR}` in any string is replaced from the environment, and COUNTERSIGN_LISTEN, COUNTERSIGN_STORE and
 * COUNTERSIGN_POLICY override their keys, so secrets and paths need not live in the file.
 */
const DEFAULT_STORE = 'sqlite:./countersign.db'

const RawConfigSchema = z.strictObject({
  listen: z.string().default('127.0.0.1:8080'),
  tls: z
    .strictObject({
      cert: z.string(),
      key: z.string(),
      clientCa: z.string().optional(),
    })
    .optional(),
  basePath: z.string().default(''),
  cosigners: z.array(z.strictObject({ name: z.string().min(1), publicKey: z.string().min(1) })).min(1),
  apiUsers: z
    .array(
      z.strictObject({
        signerId: z.string().min(1),
        name: z.string().optional(),
        authMode: z.enum(['jwt', 'certificate']).default('jwt'),
        handlerKey: z.string().optional(),
        default: z.boolean().default(false),
      }),
    )
    .min(1),
  policy: z.string().min(1),
  store: z.string().default(DEFAULT_STORE),
  bodyLimit: z.union([z.string(), z.number()]).default('1MiB'),
  decisionDeadline: z.string().default('25s'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
})
type RawConfig = z.infer<typeof RawConfigSchema>

export interface ApiUser {
  readonly signerId: string
  readonly name: string
  readonly authMode: AuthMode
  /** The key that signs this user's responses (JWT mode). */
  readonly handlerKey: KeyObject | undefined
}

export interface HandlerConfig {
  readonly host: string
  readonly port: number
  readonly tls?: { readonly cert: string; readonly key: string; readonly clientCa?: string }
  readonly basePath: string
  readonly cosignerKeys: readonly { readonly name: string; readonly key: KeyObject }[]
  readonly apiUsers: ReadonlyMap<string, ApiUser>
  /** Answers requests that carry no `signerId` (older co-signers), per auth mode. */
  readonly defaultUsers: Readonly<Partial<Record<AuthMode, ApiUser>>>
  readonly policyPath: string
  readonly storeUrl: string
  readonly bodyLimitBytes: number
  readonly decisionDeadlineMs: number
  readonly logLevel: RawConfig['logLevel']
}

const MAX_DEADLINE_MS = 29_000

function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, missing: Set<string>): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Z0-9_]+)\}/g, (_, name: string) => {
      const replacement = env[name]
      if (replacement === undefined) missing.add(name)
      return replacement ?? ''
    })
  }
  if (Array.isArray(value)) return value.map((item) => substituteEnv(item, env, missing))
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, substituteEnv(item, env, missing)]),
    )
  }
  return value
}

/** A key given inline (`-----BEGIN ...`) or as a path relative to the config file. */
function readKeyText(value: string, baseDir: string): string {
  return value.trimStart().startsWith('-----BEGIN')
    ? value
    : readFileSync(resolvePath(value, baseDir), 'utf8')
}

function resolvePath(path: string, baseDir: string): string {
  return isAbsolute(path) ? path : resolve(baseDir, path)
}

function resolveStoreUrl(url: string, baseDir: string): string {
  if (!url.startsWith('sqlite:') || url === 'sqlite::memory:') return url
  return `sqlite:${resolvePath(url.slice('sqlite:'.length), baseDir)}`
}

function parseListen(listen: string): { host: string; port: number } | undefined {
  const match = /^(.+):(\d{1,5})$/.exec(listen)
  if (!match || Number(match[2]) > 65_535) return undefined
  return { host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port: Number(match[2]) }
}

/** Checks a parsed YAML document; `baseDir` anchors relative paths (the config file's folder). */
export function compileConfig(
  document: unknown,
  baseDir: string,
  env: NodeJS.ProcessEnv = process.env,
): HandlerConfig {
  const missing = new Set<string>()
  const substituted = substituteEnv(document, env, missing) as Record<string, unknown>
  const overridden = {
    ...substituted,
    ...(env.COUNTERSIGN_LISTEN ? { listen: env.COUNTERSIGN_LISTEN } : {}),
    ...(env.COUNTERSIGN_STORE ? { store: env.COUNTERSIGN_STORE } : {}),
    ...(env.COUNTERSIGN_POLICY ? { policy: env.COUNTERSIGN_POLICY } : {}),
  }
  const problems: string[] = [...missing].map(
    (name) => `environment variable ${name} is referenced but not set: export it`,
  )
  const parsed = RawConfigSchema.safeParse(overridden)
  if (!parsed.success) {
    problems.push(...formatZodIssues(parsed.error))
    throw new ConfigInvalid(problems)
  }
  const raw = parsed.data
  const check = <T>(path: string, fix: string, read: () => T): T | undefined => {
    try {
      return read()
    } catch (error) {
      const detail = error instanceof CountersignError ? error.message : describeFileError(error)
      problems.push(`${path}: ${detail}; ${fix}`)
      return undefined
    }
  }

  const listen = parseListen(raw.listen)
  if (!listen) problems.push(`listen: "${raw.listen}" is not HOST:PORT; write e.g. 0.0.0.0:8443`)
  const bodyLimitBytes = check('bodyLimit', 'the default is 1MiB', () => parseSize(raw.bodyLimit))
  const decisionDeadlineMs = isDuration(raw.decisionDeadline)
    ? parseDuration(raw.decisionDeadline)
    : undefined
  if (decisionDeadlineMs === undefined || decisionDeadlineMs > MAX_DEADLINE_MS) {
    problems.push(
      `decisionDeadline: "${raw.decisionDeadline}" must be a duration of at most 29s (co-signers give up after 30s); write e.g. 25s`,
    )
  }

  const cosignerKeys = raw.cosigners.flatMap((cosigner, index) => {
    const key = check(`cosigners.${index}.publicKey`, 'give the co-signer public key (PEM) or its path', () =>
      importRsaPublicKey(readKeyText(cosigner.publicKey, baseDir), `co-signer ${cosigner.name} public key`),
    )
    return key ? [{ name: cosigner.name, key }] : []
  })

  const apiUsers = new Map<string, ApiUser>()
  const defaultUsers: Partial<Record<AuthMode, ApiUser>> = {}
  raw.apiUsers.forEach((user, index) => {
    const at = `apiUsers.${index}`
    if (apiUsers.has(user.signerId))
      problems.push(`${at}.signerId: "${user.signerId}" is listed twice; each API user once`)
    if (user.authMode === 'jwt' && user.handlerKey === undefined) {
      problems.push(`${at}.handlerKey: required in jwt mode; give the handler private key (PEM) or its path`)
    }
    if (user.authMode === 'certificate' && raw.tls === undefined) {
      problems.push(
        `${at}.authMode: certificate mode needs tls.cert and tls.key (the co-signer pins the certificate's key)`,
      )
    }
    const handlerKey =
      user.handlerKey === undefined
        ? undefined
        : check(`${at}.handlerKey`, 'give an unencrypted RSA-2048 private key (PEM) or its path', () =>
            importRsaPrivateKey(readKeyText(user.handlerKey!, baseDir), `handler key of ${user.signerId}`),
          )
    const apiUser: ApiUser = {
      signerId: user.signerId,
      name: user.name ?? user.signerId,
      authMode: user.authMode,
      handlerKey,
    }
    apiUsers.set(user.signerId, apiUser)
    if (user.default) {
      if (defaultUsers[user.authMode]) problems.push(`${at}.default: only one default API user per auth mode`)
      defaultUsers[user.authMode] = apiUser
    }
  })

  if (raw.tls) {
    for (const field of ['cert', 'key', 'clientCa'] as const) {
      const path = raw.tls[field]
      if (path !== undefined)
        check(`tls.${field}`, 'give a readable PEM file', () => readFileSync(resolvePath(path, baseDir)))
    }
  }
  if (problems.length > 0) throw new ConfigInvalid(problems)

  return {
    host: listen!.host,
    port: listen!.port,
    ...(raw.tls
      ? {
          tls: {
            cert: resolvePath(raw.tls.cert, baseDir),
            key: resolvePath(raw.tls.key, baseDir),
            ...(raw.tls.clientCa ? { clientCa: resolvePath(raw.tls.clientCa, baseDir) } : {}),
          },
        }
      : {}),
    basePath: normalizeBasePath(raw.basePath),
    cosignerKeys,
    apiUsers,
    defaultUsers,
    policyPath: resolvePath(raw.policy, baseDir),
    storeUrl: resolveStoreUrl(raw.store, baseDir),
    bodyLimitBytes: bodyLimitBytes!,
    decisionDeadlineMs: decisionDeadlineMs!,
    logLevel: raw.logLevel,
  }
}

/** Reads and checks a YAML configuration file. */
export function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): HandlerConfig {
  let document: unknown
  try {
    document = parseYaml(readFileSync(path, 'utf8'))
  } catch (error) {
    const detail =
      error instanceof Error && 'code' in error
        ? String(error.code)
        : error instanceof Error
          ? error.message
          : 'unreadable'
    throw new ConfigInvalid([`${path}: cannot be read as YAML (${detail})`])
  }
  return compileConfig(document, dirname(resolve(path)), env)
}

/**
 * The store URL alone, for the operator commands (`audit`, `approvals`, `velocity`, `policy replay`), which
 * must not need the handler's private keys: only the `store` key is read and substituted, and a relative
 * path resolves exactly as the handler resolves it (against the configuration file's folder, or `cwd`
 * when only COUNTERSIGN_STORE is given).
 */
export function readStoreUrl(configPath: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string {
  if (configPath === undefined) {
    if (!env.COUNTERSIGN_STORE)
      throw new ConfigInvalid(['no store given: set COUNTERSIGN_STORE or give a configuration file'])
    return resolveStoreUrl(env.COUNTERSIGN_STORE, cwd)
  }
  const path = resolve(cwd, configPath)
  let document: unknown
  try {
    document = parseYaml(readFileSync(path, 'utf8'))
  } catch {
    throw new ConfigInvalid([`${configPath}: cannot be read as YAML`])
  }
  const missing = new Set<string>()
  const store =
    env.COUNTERSIGN_STORE ??
    substituteEnv((document as { store?: unknown } | null)?.store ?? DEFAULT_STORE, env, missing)
  if (missing.size > 0)
    throw new ConfigInvalid(
      [...missing].map((name) => `store: environment variable ${name} is referenced but not set: export it`),
    )
  if (typeof store !== 'string') throw new ConfigInvalid(['store: must be sqlite:PATH or postgres://...'])
  return resolveStoreUrl(store, dirname(path))
}
