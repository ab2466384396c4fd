import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import { systemClock, type Clock } from '../core/index.js'
import { LINK_MAX_FRAME_BYTES } from '../protocol/index.js'
import {
  createServiceServer,
  describeError,
  readTlsMaterial,
  type ServiceApp,
  type ServicePlugin,
} from '../service/index.js'
import {
  appendAuditEvents,
  AUDIT_MIGRATIONS,
  CONSOLE_MIGRATIONS,
  HUB_AUTH_MIGRATIONS,
  HUB_COSIGNER_MIGRATIONS,
  HUB_LINK_MIGRATIONS,
  HUB_POLICY_MIGRATIONS,
  HUB_TRANSACTION_MIGRATIONS,
  HUB_VAULT_MIGRATIONS,
  HUB_WEBHOOK_MIGRATIONS,
  HubLinkStore,
  migrate,
  openDatabase,
  readTransaction,
  VELOCITY_MIGRATIONS,
  vaultStore,
  webhookOutbox,
  type HubAuditEventType,
  type LinkJob,
  type StorageDatabase,
  type WriteSession,
} from '../storage/index.js'
import { assetRegistry } from './chains/index.js'
import type { HubConfig } from './config.js'
import { LINK_HEARTBEAT_MS, LinkHub, linkRoutes, type LinkResult } from './link/index.js'
import { signingPlan } from './pipeline/signing-plan.js'
import { TransactionPipeline } from './pipeline/transaction-pipeline.js'
import { CosignerApprovals } from './policy/cosigner-approvals.js'
import { createPolicyGovernance, type PolicyGovernance } from './policy/index.js'
import { apiUserRoutes } from './rest/api-user-routes.js'
import { cosignerCallbackSource, cosignerRoutes } from './rest/cosigner-routes.js'
import { API_CODES } from './rest/api-error.js'
import { restAuthentication } from './rest/authenticate.js'
import { pairingRoutes } from './rest/pairing-routes.js'
import { policyRoutes } from './rest/policy-routes.js'
import { transactionRoutes } from './rest/transaction-routes.js'
import { vaultRoutes } from './rest/vault-routes.js'
import { KeyManager } from './signing/key-manager.js'
import { LinkSigningService, messageIndexOf } from './signing/link-signing.js'
import { signerDirectory } from './signing/signer-directory.js'
import { checkTransaction } from './transactions/check-transaction.js'
import {
  enqueueTransactionEvent,
  startWebhookDelivery,
  webhookJwksRoute,
  webhookRoutes,
  webhookSigningKey,
  type WebhookDelivery,
} from './webhooks/index.js'
import { WorkspaceChains } from './workspace/chain-adapter.js'
import { connectEvmNodes } from './workspace/evm-node.js'
import { transferLedger } from './workspace/transfer-ledger.js'
import { WorkspaceKeys } from './workspace/workspace-keys.js'

/**
 * The workspace hub assembled: one store (every hub capability's migrations), the REST API behind its
 * authentication, the co-signer link, the transaction pipeline and its background work (sweeps, key
 * generations, webhook delivery). `startHub` in ./service.ts runs it as a process.
 */
export const HUB_MIGRATIONS = [
  ...AUDIT_MIGRATIONS,
  ...VELOCITY_MIGRATIONS,
  ...HUB_AUTH_MIGRATIONS,
  ...HUB_VAULT_MIGRATIONS,
  ...HUB_TRANSACTION_MIGRATIONS,
  ...HUB_LINK_MIGRATIONS,
  ...HUB_WEBHOOK_MIGRATIONS,
  ...HUB_POLICY_MIGRATIONS,
  ...HUB_COSIGNER_MIGRATIONS,
  ...CONSOLE_MIGRATIONS,
]

/** How often the hub takes up unfinished work and starts due key generations. */
const SWEEP_INTERVAL_MS = 2_000

export interface Hub {
  readonly app: ServiceApp
  readonly db: StorageDatabase
  readonly link: LinkHub
  readonly pipeline: TransactionPipeline
  readonly governance: PolicyGovernance
  close(): Promise<void>
}

export interface HubOptions {
  readonly log: Logger
  readonly clock?: Clock
  /** The webhook worker's fetch (tests). */
  readonly fetch?: typeof fetch
}

const WEBHOOK_EVENTS = {
  TRANSACTION_CREATED: 'transaction.created',
  TRANSACTION_STATUS_UPDATED: 'transaction.status.updated',
} as const

export async function openHubStore(url: string, clock: Clock): Promise<StorageDatabase> {
  const db = openDatabase(url)
  try {
    await migrate(db, HUB_MIGRATIONS, clock.now())
  } catch (error) {
    await db.close()
    throw error
  }
  return db
}

/** The hub's audit chain: one hash-chained entry per event, inside the caller's write. */
export function hubAudit(clock: Clock) {
  return (session: WriteSession, event: string, body: Record<string, unknown>) =>
    appendAuditEvents(session, [
      {
        event: event as HubAuditEventType,
        requestId: typeof body.txId === 'string' ? body.txId : null,
        body,
        at: clock.now(),
      },
    ]).then(() => undefined)
}

/** A result is recorded only if it is genuine: a signature that verifies under the derived key. */
function resultVerifier(
  db: StorageDatabase,
  chains: WorkspaceChains,
  verifyConfig: (job: LinkJob, result: LinkResult) => Promise<boolean>,
) {
  return async (job: LinkJob, result: LinkResult): Promise<boolean> => {
    // An approval carries no artefact: the holder's word is the approval (the link authenticated it).
    if (job.kind === 'approve') return true
    if (job.kind === 'config') return verifyConfig(job, result)
    if (job.kind === 'keygen')
      return (
        /^(?:[0-9a-f]{2}){32,33}$/.test(result.publicKey ?? '') &&
        /^[0-9a-f]{64}$/.test(result.chainCode ?? '')
      )
    const index = messageIndexOf(job.id)
    const tx =
      job.txId === null ? undefined : await db.read((reader) => readTransaction(reader, job.txId as string))
    if (tx === undefined || index === undefined) return false
    const plan = await signingPlan(tx, chains)
    const message = plan.messages[index]
    return message !== undefined && chains.verify(plan.algorithm, message, result.signature)
  }
}

/** Answers anything that escaped the routes' own error handling as `{message, code}`, never a stack. */
const errorBody = (status: number) => ({
  message: status >= 500 ? 'internal error: the hub logged the cause' : 'the request was refused',
  code: status >= 500 ? API_CODES.internal : API_CODES.validation,
})

export async function createHub(config: HubConfig, options: HubOptions): Promise<Hub> {
  const clock = options.clock ?? systemClock
  const log = options.log
  const registry = assetRegistry(config.evmChainId === undefined ? {} : { evmChainId: config.evmChainId })
  // Before the store opens: a node of another chain refuses the start, naming both chain ids.
  const nodes = await connectEvmNodes(registry, config.chains)
  const db = await openHubStore(config.storeUrl, clock)
  const audit = hubAudit(clock)
  const keys = new WorkspaceKeys(db)
  const chains = new WorkspaceChains({ registry, keys, db, nodes })
  const linkStore = new HubLinkStore(db, clock)
  const background = new AbortController()
  // Made after the link it uses, verifying the results the link receives: bound once both exist.
  let cosignerApprovals: CosignerApprovals | undefined = undefined
  const link = new LinkHub({
    store: linkStore,
    serviceKey: config.serviceKey,
    clock,
    verifyResult: resultVerifier(db, chains, (job, result) =>
      cosignerApprovals === undefined ? Promise.resolve(false) : cosignerApprovals.verify(job, result),
    ),
  })
  const governance = createPolicyGovernance({
    database: db,
    clock,
    adminQuorum: config.adminQuorum,
    audit: (event, body, session) => audit(session, event, body),
    onAwaitingQuorum: (draft) =>
      void cosignerApprovals
        ?.request(draft)
        .catch((error: unknown) =>
          log.error({ draftId: draft.id, cause: describeError(error) }, 'co-signer approvals not asked'),
        ),
  })
  cosignerApprovals = new CosignerApprovals({
    db,
    link,
    parties: linkStore,
    governance,
    log,
    signal: background.signal,
  })
  let webhooks: WebhookDelivery | undefined
  const pipeline = new TransactionPipeline({
    db,
    clock,
    log,
    chain: chains,
    policy: { prepare: async (request, now) => (await governance.activePolicy()).prepare(request, now) },
    signers: signerDirectory(db, linkStore, clock, config.signingLeaseMs),
    signing: new LinkSigningService({
      link,
      serviceKey: config.serviceKey,
      clock,
      authorizationSeconds: Math.ceil(config.signingBudgetMs / 1000),
    }),
    effects: {
      notify: async (session, event, transaction) => {
        const data = { ...transaction, id: String(transaction.id) }
        await enqueueTransactionEvent(
          session,
          { eventType: WEBHOOK_EVENTS[event], workspaceId: config.workspaceId, transaction: data },
          clock.now(),
        )
        webhooks?.wake()
      },
      audit,
      account: transferLedger(registry, () => clock.now()),
    },
    network: chains,
    signingBudgetMs: config.signingBudgetMs,
    approvalBudgetMs: config.approvalBudgetMs,
    leaseMs: config.signingLeaseMs,
    usdPrice: (assetId) => config.usdPrices[assetId] ?? 0,
  })
  const keyManager = new KeyManager({ db, link, parties: linkStore, clock, log })

  const signingKey = config.webhookKey === undefined ? undefined : await webhookSigningKey(config.webhookKey)
  if (signingKey !== undefined) {
    await seedWebhookEndpoints(db, config, clock)
    webhooks = startWebhookDelivery({
      db,
      clock,
      signingKey,
      log,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    })
  }

  const app = createServiceServer({
    log,
    limits: config.limits,
    errorBody,
    readiness: async () => ({ ready: db.health().ready, store: db.health().problem ?? 'ok' }),
    webSockets: { maxPayloadBytes: LINK_MAX_FRAME_BYTES },
    ...(config.tls === undefined ? {} : { tls: readTlsMaterial(config.tls) }),
  })
  const routes: ServicePlugin[] = [
    apiUserRoutes(db, clock),
    pairingRoutes({ db, link }),
    vaultRoutes({ store: vaultStore(db, clock), addressBook: chains }),
    transactionRoutes({
      db,
      pipeline,
      check: (request) => checkTransaction(request, chains, vaultStore(db, clock)),
    }),
    policyRoutes(governance),
    webhookRoutes({ db, clock, log }),
    cosignerRoutes({ db, clock, link, parties: linkStore }),
  ]
  await app.register(
    restAuthentication({
      database: db,
      routes,
      clock,
      log,
      audit: (event, body) => db.write((session) => audit(session, event, body)),
    }),
  )
  await app.register(
    linkRoutes(link, {
      callbackHandler: cosignerCallbackSource(db, clock),
      log,
      // Each co-signer is heard from three times per lease, so one heartbeat lost does not cost a lease.
      heartbeatMs: Math.min(LINK_HEARTBEAT_MS, Math.floor(config.signingLeaseMs / 3)),
    }),
  )
  if (signingKey !== undefined) await app.register(webhookJwksRoute([signingKey]))

  const sweep = async () => {
    try {
      await pipeline.sweep()
      await keyManager.reconcile(background.signal)
    } catch (error) {
      log.error({ cause: describeError(error) }, 'hub sweep failed')
    }
  }
  let timer = clock.setTimer(0, function tick() {
    void sweep().finally(() => {
      if (!background.signal.aborted) timer = clock.setTimer(SWEEP_INTERVAL_MS, tick)
    })
  })

  return {
    app,
    db,
    link,
    pipeline,
    governance,
    close: async () => {
      background.abort(new Error('the hub is stopping'))
      timer.cancel()
      link.close()
      await app.close()
      await pipeline.close()
      await webhooks?.stop()
      await db.close()
    },
  }
}

/** The endpoints of hub.yaml, registered once (an endpoint with the same URL is kept as it is). */
async function seedWebhookEndpoints(db: StorageDatabase, config: HubConfig, clock: Clock): Promise<void> {
  const outbox = webhookOutbox(db)
  const known = new Set((await outbox.listEndpoints()).map((endpoint) => endpoint.url))
  for (const endpoint of config.webhookEndpoints) {
    if (known.has(endpoint.url)) continue
    await outbox.addEndpoint(
      {
        id: randomUUID(),
        url: endpoint.url,
        events: endpoint.events ?? Object.values(WEBHOOK_EVENTS),
        payloadVersion: endpoint.version,
        enabled: true,
        description: 'from hub.yaml',
      },
      clock.now(),
    )
  }
}
