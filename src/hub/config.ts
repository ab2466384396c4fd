import { createPrivateKey, type KeyObject } from 'node:crypto'
import { z } from 'zod'
import { parseDuration } from '../core/index.js'
import {
  adminSchema,
  compileAdmin,
  compileConsole,
  consoleSchema,
  compileLimits,
  compileListen,
  limitsSchema,
  listenSchema,
  loadConfig,
  readKeyText,
  readTlsMaterial,
  resolveStoreUrl,
  resolveTlsFiles,
  storeUrlSchema,
  tlsSchema,
  unlessRefused,
  type AdminAddress,
  type CompileContext,
  type ConsoleConfig,
  type ConfigCompiler,
  type ServerLimits,
  type TlsFiles,
} from '../service/index.js'
import { assetRegistry } from './chains/index.js'
import type { EvmNodeSettings } from './workspace/evm-node.js'

/**
 * `hub.yaml`: where the hub listens, its store (SQLite by default, PostgreSQL for replicas), its Ed25519
 * service key (signs the co-signer link's messages, tokens and signing authorizations), the RSA key that
 * signs webhooks, the workspace's settings, and the chain nodes it broadcasts to. `countersign hub init` writes
 * one.
 */
const DEFAULT_STORE = 'sqlite:./hub.db'

const RawHubConfigSchema = z.strictObject({
  listen: listenSchema.default('127.0.0.1:8443'),
  tls: tlsSchema.optional(),
  admin: adminSchema.optional(),
  /** The workspace console, served on the admin listener (docs/console.md). */
  console: consoleSchema.optional(),
  store: storeUrlSchema.default(DEFAULT_STORE),
  workspaceId: z.uuid(),
  serviceKey: z.string().min(1).describe('Ed25519 private key (PEM or its path)'),
  webhooks: z
    .strictObject({
      signingKey: z.string().min(1).describe('RSA private key (PEM or its path), 2048 bits or more'),
      endpoints: z
        .array(
          z.strictObject({
            url: z.string(),
            events: z.array(z.string()).optional(),
            version: z.enum(['v1', 'v2']).default('v1'),
          }),
        )
        .default([]),
    })
    .optional(),
  evmChainId: z.int().min(1).optional(),
  chains: z
    .record(
      z.string(),
      z.strictObject({
        rpcUrl: z.string().describe('http(s) URL of a JSON-RPC node of the chain; ${VAR} for one with a key'),
        confirmations: z.int().min(1).default(1),
      }),
    )
    .default({}),
  assets: z.record(z.string(), z.strictObject({ usdPrice: z.number().min(0) })).default({}),
  policy: z.strictObject({ adminQuorum: z.int().min(1).default(1) }).default({ adminQuorum: 1 }),
  signing: z
    .strictObject({
      budget: z.string().default('120s'),
      // The co-signer's callback series: 21 calls of up to 30 s, 3 minutes apart (protocol.md §1.5), and margin.
      approvalBudget: z.string().default('75m'),
      // A co-signer heard from within it holds its attempts; one silent longer hands them to another.
      lease: z.string().default('30s'),
    })
    .default({ budget: '120s', approvalBudget: '75m', lease: '30s' }),
  limits: limitsSchema,
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
})
type RawHubConfig = z.infer<typeof RawHubConfigSchema>

export interface WebhookEndpointConfig {
  readonly url: string
  readonly events: readonly string[] | undefined
  readonly version: 'v1' | 'v2'
}

export interface HubConfig {
  readonly host: string
  readonly port: number
  readonly tls?: TlsFiles
  readonly admin?: AdminAddress
  /** The workspace console, on the admin listener; absent: not served. */
  readonly console?: ConsoleConfig
  readonly storeUrl: string
  readonly workspaceId: string
  readonly serviceKey: KeyObject
  readonly webhookKey: KeyObject | undefined
  readonly webhookEndpoints: readonly WebhookEndpointConfig[]
  readonly evmChainId: bigint | undefined
  /** The assets the hub broadcasts itself, with their node; the others complete with the signed transaction. */
  readonly chains: Readonly<Record<string, EvmNodeSettings>>
  readonly usdPrices: Readonly<Record<string, number>>
  readonly adminQuorum: number
  readonly signingBudgetMs: number
  /** How long the signer's co-signer may take to approve (its callback handler's RETRY series included). */
  readonly approvalBudgetMs: number
  /** How long a signing attempt holds its transaction without a sign of life from its co-signer. */
  readonly signingLeaseMs: number
  readonly limits: ServerLimits
  readonly logLevel: RawHubConfig['logLevel']
}

function privateKey(
  raw: string,
  type: 'ed25519' | 'rsa',
  path: string,
  fix: string,
  context: CompileContext,
): KeyObject | undefined {
  return context.attempt(path, fix, () => {
    const key = createPrivateKey(readKeyText(raw, context.baseDir))
    if (key.asymmetricKeyType !== type)
      throw new Error(`is a ${key.asymmetricKeyType ?? 'secret'} key, not ${type}`)
    if (type === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048)
      throw new Error('is shorter than 2048 bits')
    return key
  })
}

function compileHub(raw: RawHubConfig, context: CompileContext): HubConfig {
  const listen = compileListen(raw.listen, context)
  const admin = compileAdmin(raw.admin, listen, context)
  const consoleConfig = compileConsole(raw.console, admin, context)
  const tls = raw.tls ? resolveTlsFiles(raw.tls, context.baseDir) : undefined
  if (tls) context.attempt('tls', 'give readable PEM files: tls.cert and tls.key', () => readTlsMaterial(tls))
  const serviceKey = privateKey(
    raw.serviceKey,
    'ed25519',
    'serviceKey',
    'give the Ed25519 private key `countersign hub init` wrote (keys/hub-service.key)',
    context,
  )
  const webhookKey =
    raw.webhooks === undefined
      ? undefined
      : privateKey(
          raw.webhooks.signingKey,
          'rsa',
          'webhooks.signingKey',
          'give an RSA private key of 2048 bits or more (openssl genrsa 3072)',
          context,
        )
  raw.webhooks?.endpoints.forEach(({ url }, index) => {
    const protocol = unlessRefused(() => new URL(url).protocol)
    if (protocol !== 'http:' && protocol !== 'https:')
      context.problem(
        `webhooks.endpoints.${index}.url`,
        `"${url}" is not an http(s) URL`,
        'write e.g. https://example.com/hooks',
      )
  })
  checkChains(raw, context)
  const budget = durationOf(raw.signing.budget, 'signing.budget', '120s', context)
  const approvalBudget = durationOf(raw.signing.approvalBudget, 'signing.approvalBudget', '75m', context)
  const lease = durationOf(raw.signing.lease, 'signing.lease', '30s', context)
  return {
    host: listen?.host ?? '127.0.0.1',
    port: listen?.port ?? 0,
    ...(tls ? { tls } : {}),
    ...(admin ? { admin } : {}),
    ...(consoleConfig ? { console: consoleConfig } : {}),
    storeUrl: resolveStoreUrl(raw.store, context.baseDir),
    workspaceId: raw.workspaceId,
    serviceKey: serviceKey as KeyObject,
    webhookKey,
    webhookEndpoints: (raw.webhooks?.endpoints ?? []).map((endpoint) => ({
      url: endpoint.url,
      events: endpoint.events,
      version: endpoint.version,
    })),
    evmChainId: raw.evmChainId === undefined ? undefined : BigInt(raw.evmChainId),
    chains: raw.chains,
    usdPrices: Object.fromEntries(Object.entries(raw.assets).map(([id, asset]) => [id, asset.usdPrice])),
    adminQuorum: raw.policy.adminQuorum,
    signingBudgetMs: budget ?? 120_000,
    approvalBudgetMs: approvalBudget ?? 75 * 60_000,
    signingLeaseMs: lease ?? 30_000,
    limits: compileLimits(raw.limits, context),
    logLevel: raw.logLevel,
  }
}

/** Each `chains.<asset>` names an EVM asset of the hub and an http(s) node URL. */
function checkChains(raw: RawHubConfig, context: CompileContext): void {
  const registry = assetRegistry(raw.evmChainId === undefined ? {} : { evmChainId: BigInt(raw.evmChainId) })
  for (const [assetId, { rpcUrl }] of Object.entries(raw.chains)) {
    if (registry.get(assetId)?.chain !== 'evm')
      context.problem(
        `chains.${assetId}`,
        `${assetId} is not an EVM asset of the hub`,
        `broadcasting is for ${[...registry.values()]
          .filter((a) => a.chain === 'evm')
          .map((a) => a.id)
          .join(', ')}`,
      )
    const protocol = unlessRefused(() => new URL(rpcUrl).protocol)
    if (protocol !== 'http:' && protocol !== 'https:')
      context.problem(
        `chains.${assetId}.rpcUrl`,
        'is not an http(s) URL',
        'write e.g. http://127.0.0.1:8545 or https://rpc.example/${RPC_KEY}',
      )
  }
}

export const hubConfigCompiler: ConfigCompiler<typeof RawHubConfigSchema, HubConfig> = {
  schema: RawHubConfigSchema,
  envOverrides: { listen: 'COUNTERSIGN_LISTEN', store: 'COUNTERSIGN_STORE' },
  compile: compileHub,
}

/** Reads and checks `hub.yaml`; throws `ConfigInvalid` naming every problem with its line and fix. */
export function loadHubConfig(path: string, env: NodeJS.ProcessEnv = process.env): HubConfig {
  return loadConfig(hubConfigCompiler, path, env)
}

function durationOf(text: string, key: string, example: string, context: CompileContext): number | undefined {
  const ms = unlessRefused(() => parseDuration(text))
  if (ms === undefined || ms < 1_000)
    context.problem(key, `"${text}" is not a duration of a second or more`, `write e.g. ${example}`)
  return ms
}
