import { resolve } from 'node:path'
import type { KeyObject } from 'node:crypto'
import { z } from 'zod'
import { parseDuration, parseSize } from '../core/index.js'
import {
  importRsaPrivateKey,
  importRsaPublicKey,
  normalizeBasePath,
  type AuthMode,
} from '../protocol/index.js'
import {
  ConfigInvalid,
  adminSchema,
  compileAdmin,
  compileConsole,
  consoleSchema,
  type ConsoleConfig,
  compileLimits,
  compileListen,
  limitsSchema,
  unlessRefused,
  compileConfigDocument,
  listenSchema,
  loadConfig,
  readKeyText,
  readTlsMaterial,
  readYamlSource,
  resolvePath,
  resolveStoreUrl,
  resolveTlsFiles,
  storeUrlSchema,
  substituteEnv,
  tlsSchema,
  type AdminAddress,
  type CompileContext,
  type ConfigCompiler,
  type ServerLimits,
  type TlsFiles,
} from '../service/index.js'
import type { WebhookTarget } from './hold-webhook.js'

/**
 * The handler's configuration: one YAML file, checked for shape and then for meaning (files that must
 * exist, keys that must be strong RSA keys), with every problem named by its key path, line and fix. The
 * reading, `${VAR}` substitution and environment overrides (COUNTERSIGN_LISTEN, COUNTERSIGN_STORE,
 * COUNTERSIGN_POLICY) are the service shell's; this file is the handler's schema on them.
 */
const DEFAULT_STORE = 'sqlite:./countersign.db'
const MAX_DEADLINE_MS = 29_000
/** The size co-signers accept for the key that signs the handler's answers (protocol.md, "Handler key"). */
const HANDLER_KEY_BITS = 2048

const RawConfigSchema = z.strictObject({
  listen: listenSchema.default('127.0.0.1:8080'),
  tls: tlsSchema.optional(),
  admin: adminSchema.optional(),
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
  store: storeUrlSchema.default(DEFAULT_STORE),
  bodyLimit: z.union([z.string(), z.number()]).default('1MiB'),
  decisionDeadline: z.string().default('25s'),
  limits: limitsSchema,
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  webhooks: z.array(z.strictObject({ url: z.string(), secret: z.string() })).default([]),
  console: consoleSchema.optional(),
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
  readonly tls?: TlsFiles
  /** Probes and metrics on their own address; when set, the callback listener no longer serves `/metrics`. */
  readonly admin?: AdminAddress
  readonly basePath: string
  readonly cosignerKeys: readonly { readonly name: string; readonly key: KeyObject }[]
  readonly apiUsers: ReadonlyMap<string, ApiUser>
  /** Answers requests that carry no `signerId` (older co-signers), per auth mode. */
  readonly defaultUsers: Readonly<Partial<Record<AuthMode, ApiUser>>>
  readonly policyPath: string
  readonly storeUrl: string
  readonly bodyLimitBytes: number
  readonly decisionDeadlineMs: number
  readonly limits: ServerLimits
  readonly logLevel: RawConfig['logLevel']
  /** Where new holds are announced (./hold-webhook.ts). */
  readonly webhooks: readonly WebhookTarget[]
  /** The approvals console, on the admin listener; absent: not served. */
  readonly console?: ConsoleConfig
}

/** Short secrets can be guessed offline from one signed event; 32 characters is what `openssl rand -hex 16` gives. */
const MIN_WEBHOOK_SECRET_LENGTH = 32

function compileWebhooks(raw: RawConfig['webhooks'], context: CompileContext): WebhookTarget[] {
  raw.forEach(({ url, secret }, index) => {
    const protocol = unlessRefused(() => new URL(url).protocol)
    if (protocol !== 'http:' && protocol !== 'https:')
      context.problem(
        `webhooks.${index}.url`,
        `"${url}" is not an http(s) URL`,
        'write e.g. https://alerts.example.com/countersign',
      )
    const secretPath = `webhooks.${index}.secret`
    // `attempt` skips a secret that named an unset variable: that problem is reported already.
    const secretGiven = context.attempt(secretPath, '', () => true) === true
    if (secretGiven && secret.length < MIN_WEBHOOK_SECRET_LENGTH)
      context.problem(
        secretPath,
        `is ${secret.length} characters long: at least ${MIN_WEBHOOK_SECRET_LENGTH} are needed`,
        'generate one with `openssl rand -hex 32`, export it and write secret: ${HOLD_WEBHOOK_SECRET}',
      )
  })
  return raw
}

function compileApiUsers(raw: RawConfig, context: CompileContext) {
  const apiUsers = new Map<string, ApiUser>()
  const defaultUsers: Partial<Record<AuthMode, ApiUser>> = {}
  raw.apiUsers.forEach((user, index) => {
    const at = `apiUsers.${index}`
    if (apiUsers.has(user.signerId))
      context.problem(`${at}.signerId`, `"${user.signerId}" is listed twice`, 'each API user once')
    if (user.authMode === 'jwt' && user.handlerKey === undefined)
      context.problem(
        `${at}.handlerKey`,
        'required in jwt mode',
        'give the handler private key (PEM) or its path',
      )
    if (user.authMode === 'certificate' && raw.tls === undefined)
      context.problem(
        `${at}.authMode`,
        'certificate mode needs tls.cert and tls.key',
        'add them (the co-signer pins the certificate key)',
      )
    const handlerKey =
      user.handlerKey === undefined
        ? undefined
        : context.attempt(
            `${at}.handlerKey`,
            'give an unencrypted RSA-2048 private key (PEM) or its path',
            () =>
              importRsaPrivateKey(
                readKeyText(user.handlerKey!, context.baseDir),
                `handler key of ${user.signerId}`,
              ),
          )
    const bits = handlerKey?.asymmetricKeyDetails?.modulusLength
    if (bits !== undefined && bits !== HANDLER_KEY_BITS)
      context.problem(
        `${at}.handlerKey`,
        `is an RSA-${bits} key: co-signers accept only an RSA-${HANDLER_KEY_BITS} key for the callback handler's answers, and would refuse every one it signs`,
        'generate one with `countersign keys generate --for callback` and configure its public key on the co-signer',
      )
    const apiUser: ApiUser = {
      signerId: user.signerId,
      name: user.name ?? user.signerId,
      authMode: user.authMode,
      handlerKey,
    }
    apiUsers.set(user.signerId, apiUser)
    if (user.default) {
      if (defaultUsers[user.authMode])
        context.problem(`${at}.default`, 'only one default API user per auth mode', 'keep one')
      defaultUsers[user.authMode] = apiUser
    }
  })
  return { apiUsers, defaultUsers }
}

function compileHandlerConfig(raw: RawConfig, context: CompileContext): HandlerConfig {
  const { baseDir } = context
  const listen = compileListen(raw.listen, context)
  const bodyLimitBytes = unlessRefused(() => parseSize(raw.bodyLimit))
  if (bodyLimitBytes === undefined)
    context.problem('bodyLimit', `"${raw.bodyLimit}" is not a size`, 'write e.g. 1MiB')
  const decisionDeadlineMs = unlessRefused(() => parseDuration(raw.decisionDeadline))
  if (decisionDeadlineMs === undefined || decisionDeadlineMs > MAX_DEADLINE_MS)
    context.problem(
      'decisionDeadline',
      `"${raw.decisionDeadline}" must be a duration of at most 29s (co-signers give up after 30s)`,
      'write e.g. 25s',
    )
  const cosignerKeys = raw.cosigners.flatMap((cosigner, index) => {
    const key = context.attempt(
      `cosigners.${index}.publicKey`,
      'give the co-signer public key (PEM) or its path',
      () =>
        importRsaPublicKey(readKeyText(cosigner.publicKey, baseDir), `co-signer ${cosigner.name} public key`),
    )
    return key ? [{ name: cosigner.name, key }] : []
  })
  const { apiUsers, defaultUsers } = compileApiUsers(raw, context)
  const tls = raw.tls ? resolveTlsFiles(raw.tls, baseDir) : undefined
  if (tls)
    context.attempt('tls', 'give readable PEM files: tls.cert, tls.key and tls.clientCa', () =>
      readTlsMaterial(tls),
    )
  const limits = compileLimits(raw.limits, context)
  const admin = compileAdmin(raw.admin, listen, context)
  const consoleConfig = compileConsole(raw.console, admin, context)

  return {
    host: listen?.host ?? '',
    port: listen?.port ?? 0,
    ...(tls ? { tls } : {}),
    ...(admin ? { admin } : {}),
    basePath: normalizeBasePath(raw.basePath),
    cosignerKeys,
    apiUsers,
    defaultUsers,
    policyPath: resolvePath(raw.policy, baseDir),
    storeUrl: resolveStoreUrl(raw.store, baseDir),
    bodyLimitBytes: bodyLimitBytes ?? 0,
    decisionDeadlineMs: decisionDeadlineMs ?? 0,
    limits,
    logLevel: raw.logLevel,
    webhooks: compileWebhooks(raw.webhooks, context),
    ...(consoleConfig ? { console: consoleConfig } : {}),
  }
}

const HANDLER_CONFIG: ConfigCompiler<typeof RawConfigSchema, HandlerConfig> = {
  schema: RawConfigSchema,
  envOverrides: { listen: 'COUNTERSIGN_LISTEN', store: 'COUNTERSIGN_STORE', policy: 'COUNTERSIGN_POLICY' },
  compile: compileHandlerConfig,
}

/** Checks a parsed YAML document; `baseDir` anchors relative paths (the config file's folder). */
export function compileConfig(
  document: unknown,
  baseDir: string,
  env: NodeJS.ProcessEnv = process.env,
): HandlerConfig {
  return compileConfigDocument(HANDLER_CONFIG, document, { baseDir, env })
}

/** Reads and checks a YAML configuration file; every problem names its line and column. */
export function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): HandlerConfig {
  return loadConfig(HANDLER_CONFIG, path, env)
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
  const source = readYamlSource(path)
  const baseDir = resolve(path, '..')
  if (env.COUNTERSIGN_STORE) return resolveStoreUrl(env.COUNTERSIGN_STORE, baseDir)
  const document = (source.value ?? {}) as { store?: unknown }
  const { value: store, unset } = substituteEnv(document.store ?? DEFAULT_STORE, env, ['store'])
  if (unset.length > 0)
    throw new ConfigInvalid(
      unset.map(({ name }) => ({
        path: 'store',
        message: `environment variable ${name} is referenced but not set`,
        fix: `export ${name}`,
      })),
    )
  if (typeof store !== 'string')
    throw new ConfigInvalid([{ path: 'store', message: 'must be sqlite:PATH or postgres://...' }])
  return resolveStoreUrl(store, baseDir)
}
