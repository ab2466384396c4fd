import type { Logger } from 'pino'
import { systemClock, type Clock } from '../core/index.js'
import { loadPolicyFile, type CompiledPolicy } from '../policy/index.js'
import {
  createServiceLogger,
  listenOn,
  redactStoreUrl,
  shareMetricsWithPrimary,
  startAdminServer,
  storeOpenFailed,
  type RunningAdminServer,
  type RunningService,
} from '../service/index.js'
import { openStore, StoreSchemaUnknown, type Store } from '../storage/index.js'
import type { HandlerConfig } from './config.js'
import { HoldWebhook } from './hold-webhook.js'
import { buildServer } from './server.js'
import { approvalsConsole, CONSOLE_PREFIX } from './console/approvals-console.js'

export interface RunningHandler extends RunningService {
  /** `http(s)://host:port` as bound (the real port when 0 was asked). */
  readonly url: string
  /** The admin listener's URL (probes, metrics), when this process serves one. */
  readonly adminUrl?: string
  /** The approvals console's URL (its configured origin), when this process serves it. */
  readonly consoleUrl?: string
  readonly store: Store
  /** Re-reads the policy file; a policy that fails validation is refused and the running one kept. */
  reloadPolicy(): boolean
  /** Stops accepting, finishes in-flight requests (within the drain bound), closes the store. */
  close(): Promise<void>
}

export interface StartOptions {
  readonly log?: Logger
  readonly clock?: Clock
  /**
   * A cluster worker (`--workers N`): the primary serves the admin listener, with metrics this worker
   * sends it, so the worker serves none itself.
   */
  readonly worker?: boolean
}

export function handlerLogger(config: Pick<HandlerConfig, 'logLevel'>): Logger {
  return createServiceLogger({ service: 'countersign-handler', level: config.logLevel })
}

async function openStoreOrExplain(config: HandlerConfig, clock: Clock | undefined): Promise<Store> {
  try {
    return await openStore(config.storeUrl, clock ? { clock } : {})
  } catch (error) {
    // Its message already names the cause and the fix; the generic "is the database reachable" would mislead.
    if (error instanceof StoreSchemaUnknown) throw error
    throw storeOpenFailed(config.storeUrl, error)
  }
}

/** Starts the callback handler: loads the policy and the store first, so it never listens half-ready. */
export async function startHandler(
  config: HandlerConfig,
  options: StartOptions = {},
): Promise<RunningHandler> {
  const log = options.log ?? handlerLogger(config)
  let policy: CompiledPolicy = loadPolicyFile(config.policyPath)
  const store = await openStoreOrExplain(config, options.clock)
  const holds =
    config.webhooks.length > 0
      ? new HoldWebhook({ targets: config.webhooks, log, clock: options.clock ?? systemClock })
      : undefined
  let app: ReturnType<typeof buildServer>['app'] | undefined
  let metrics: ReturnType<typeof buildServer>['metrics'] | undefined
  let admin: RunningAdminServer | undefined
  let url: string
  try {
    const server = buildServer({
      config,
      policy: () => policy,
      store,
      log,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(holds ? { holds } : {}),
    })
    app = server.app
    metrics = server.metrics
    if (options.worker) shareMetricsWithPrimary(server.metrics.registry)
    else if (config.admin)
      admin = await startAdminServer({
        address: config.admin,
        log,
        metrics: server.metrics.registry,
        readiness: server.readiness,
        ...(config.console
          ? {
              routes: approvalsConsole({
                config: config.console,
                store,
                clock: options.clock ?? systemClock,
              }),
            }
          : {}),
      })
    url = await listenOn(app, config, config.tls !== undefined)
  } catch (error) {
    await admin?.close()
    await app?.close()
    await holds?.close()
    await store.close()
    throw error
  }
  const server = app
  log.info(
    {
      url,
      ...(admin ? { adminUrl: admin.url } : {}),
      basePath: config.basePath || '/',
      policyVersion: policy.version,
      store: store.dialect,
      storeUrl: redactStoreUrl(config.storeUrl),
    },
    'callback handler listening',
  )

  const reloadPolicy = () => {
    try {
      const next = loadPolicyFile(config.policyPath)
      policy = next
      log.info({ policyVersion: next.version, digest: next.digest }, 'policy reloaded')
      return true
    } catch (error) {
      metrics?.policyReloadFailures.inc()
      log.error(
        { err: error instanceof Error ? error.message : String(error) },
        'policy reload refused: keeping the running policy',
      )
      return false
    }
  }
  return {
    url,
    ...(admin ? { adminUrl: admin.url } : {}),
    ...(admin && config.console ? { consoleUrl: `${config.console.origin}${CONSOLE_PREFIX}/` } : {}),
    store,
    reloadPolicy,
    reload: reloadPolicy,
    async close() {
      await server.close()
      await admin?.close()
      // Deliveries still retrying are abandoned: a receiver never holds up shutdown.
      await holds?.close()
      await store.close()
    },
  }
}
