import type { Logger } from 'pino'
import type { Clock } from '../../core/index.js'
import {
  createLinkTransport,
  FileKeyShareStore,
  FilePresignatureStore,
  PartyRunner,
  type LinkTransport,
} from '../../link/index.js'
import { createDklsEcdsaEngine, createFrostEddsaEngine } from '../../mpc/index.js'
import { createServiceLogger } from '../../service/index.js'
import { openCloudLog, type CloudLog } from '../../storage/index.js'
import type { CloudCosignerConfig } from './config.js'
import { AuthorizationGuard } from './guard.js'

export interface RunningCloudCosigner {
  readonly runner: PartyRunner
  readonly log: CloudLog
  /** Settles when the runner stops: rejects when the hub refused this cloud's token (re-provision it). */
  readonly done: Promise<void>
  close(): Promise<void>
}

export interface CloudCosignerOptions {
  /** Another transport than HTTP to the configured hub (tests). */
  readonly transport?: LinkTransport
  readonly clock?: Clock
  readonly logger?: Logger
}

/**
 * A cloud co-signer: a party runner whose signing gate is the authorization guard over its own log, with
 * file key shares and pre-signatures (sealing at rest comes from src/seal) and its link to the hub: the
 * mailbox pushed over a WebSocket, long-polled when WebSockets do not get through.
 */
export async function startCloudCosigner(
  config: CloudCosignerConfig,
  options: CloudCosignerOptions = {},
): Promise<RunningCloudCosigner> {
  const logger =
    options.logger ??
    createServiceLogger({ service: `cloud-cosigner:${config.party.name}`, level: config.logLevel })
  const log = await openCloudLog(config.storeUrl, options.clock === undefined ? {} : { clock: options.clock })
  const guard = new AuthorizationGuard({
    hubKey: config.hubKey,
    log,
    logger,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  })
  const stopped = new AbortController()
  const runner = new PartyRunner({
    party: config.party,
    hubKey: config.hubKey,
    transport:
      options.transport ??
      createLinkTransport({
        hubUrl: config.hubUrl,
        refreshToken: config.refreshToken,
        mode: 'websocket',
        log: logger,
        signal: stopped.signal,
      }),
    keyShares: new FileKeyShareStore(config.keyShareDirectory, config.party.name),
    presignatures: new FilePresignatureStore(config.presignatureDirectory),
    gate: guard.gate,
    fence: guard.fence,
    engines: { ecdsa: createDklsEcdsaEngine(), eddsa: createFrostEddsaEngine() },
    sessionIdleMs: config.sessionIdleMs,
    log: logger,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  })
  const done = runner.run()
  logger.info({ party: config.party.name, hub: config.hubUrl }, 'cloud co-signer linked to the hub')
  return {
    runner,
    log,
    done,
    close: async () => {
      await runner.stop()
      stopped.abort()
      await log.close()
    },
  }
}
