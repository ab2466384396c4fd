import type { Logger } from 'pino'
import { systemClock, type Clock } from '../core/index.js'
import {
  createServiceLogger,
  listenOn,
  redactStoreUrl,
  startAdminServer,
  storeOpenFailed,
  type RunningAdminServer,
  type RunningService,
} from '../service/index.js'
import { HubLinkStore, StoreSchemaUnknown } from '../storage/index.js'
import type { HubConfig } from './config.js'
import {
  issueConsoleLink,
  WORKSPACE_CONSOLE_PREFIX,
  type ConsoleLinkRequest,
} from './console/console-users.js'
import { workspaceConsole } from './console/workspace-console.js'
import { createHub, openHubStore, type Hub } from './hub.js'
import { LinkHub } from './link/index.js'
import { issuePairingToken } from './rest/pairing-routes.js'

export interface RunningHub extends RunningService {
  /** `http(s)://host:port` as bound. */
  readonly url: string
  readonly adminUrl?: string
  /** The workspace console's first page (`console.origin` + `/console/`), when hub.yaml turns it on. */
  readonly consoleUrl?: string
  readonly hub: Hub
  close(): Promise<void>
}

export function hubLogger(config: Pick<HubConfig, 'logLevel'>): Logger {
  return createServiceLogger({ service: 'countersign-hub', level: config.logLevel })
}

async function createHubOrExplain(config: HubConfig, log: Logger, clock: Clock | undefined): Promise<Hub> {
  try {
    return await createHub(config, { log, ...(clock === undefined ? {} : { clock }) })
  } catch (error) {
    if (error instanceof StoreSchemaUnknown) throw error
    if ((error as { code?: string }).code === 'CS_STORE_UNAVAILABLE')
      throw storeOpenFailed(config.storeUrl, error)
    throw error
  }
}

/** Starts the hub: store migrated and background work running before it listens. */
export async function startHub(
  config: HubConfig,
  options: { readonly log?: Logger; readonly clock?: Clock } = {},
): Promise<RunningHub> {
  const log = options.log ?? hubLogger(config)
  const hub = await createHubOrExplain(config, log, options.clock)
  let admin: RunningAdminServer | undefined
  let url: string
  try {
    if (config.admin)
      admin = await startAdminServer({
        address: config.admin,
        log,
        ...(config.console
          ? {
              routes: workspaceConsole({
                config: config.console,
                db: hub.db,
                link: hub.link,
                governance: hub.governance,
                clock: options.clock ?? systemClock,
                adminQuorum: config.adminQuorum,
              }),
            }
          : {}),
      })
    url = await listenOn(hub.app, config, config.tls !== undefined)
  } catch (error) {
    await admin?.close()
    await hub.close()
    throw error
  }
  const consoleUrl =
    admin && config.console ? `${config.console.origin}${WORKSPACE_CONSOLE_PREFIX}/` : undefined
  log.info(
    {
      url,
      ...(admin ? { adminUrl: admin.url } : {}),
      ...(consoleUrl ? { consoleUrl } : {}),
      storeUrl: redactStoreUrl(config.storeUrl),
    },
    'hub listening',
  )
  return {
    url,
    ...(admin ? { adminUrl: admin.url } : {}),
    ...(consoleUrl ? { consoleUrl } : {}),
    hub,
    async close() {
      await hub.close()
      await admin?.close()
    },
  }
}

/** `countersign hub console-link`: a console user in a role and their single-use enrolment link. */
export async function consoleLinkFromStore(
  config: HubConfig,
  request: ConsoleLinkRequest,
  clock: Clock,
): Promise<string> {
  const db = await openHubStore(config.storeUrl, clock)
  try {
    return await issueConsoleLink(db, clock, request)
  } finally {
    await db.close()
  }
}

/** `countersign hub pairing-token`: a pairing token from the hub's own store, as the Owner's console would. */
export async function pairingTokenFromStore(config: HubConfig, apiUserId: string, clock: Clock) {
  const db = await openHubStore(config.storeUrl, clock)
  try {
    const link = new LinkHub({ store: new HubLinkStore(db, clock), serviceKey: config.serviceKey, clock })
    return await issuePairingToken(db, link, apiUserId)
  } finally {
    await db.close()
  }
}
