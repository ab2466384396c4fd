import type { Logger } from 'pino'
import { systemClock, type Clock } from '../core/index.js'
import { createLinkTransport, PartyRunner, type LinkMode, type LinkTransport } from '../link/index.js'
import { createDklsEcdsaEngine, createFrostEddsaEngine } from '../mpc/index.js'
import { ApproveBodySchema, ConfigBodySchema } from '../protocol/index.js'
import { startAdminServer, type AdminAddress, type RunningAdminServer } from '../service/index.js'
import { createApprover, createConfigApprover, type CallbackSchedule } from './approver.js'
import { callbackTarget, CallbackSettingSchema, type CallbackTarget } from './callback-target.js'
import { NotPaired } from './errors.js'
import { openCosignerFolder, type CosignerFolder, type Unlock } from './folder.js'
import { CosignerMetrics } from './metrics.js'
import { callbackKey, readPairings, type Pairing } from './pairing.js'
import { signingGate } from './signing-gate.js'
import { CALLBACK_DEFAULTS } from '../callback-client/index.js'

export interface CosignerOptions {
  readonly dir: string
  readonly unlock: Unlock
  readonly log: Logger
  /** `/healthz`, `/readyz`, `/metrics`; none when left out. */
  readonly admin?: AdminAddress
  /** The callback series; the documented defaults (30 s, every 3 minutes, 20 times) when left out. */
  readonly schedule?: Partial<CallbackSchedule>
  /** How the mailbox arrives: pushed over a WebSocket (the default; long-poll when that fails), or long-polled. */
  readonly link?: LinkMode
  readonly clock?: Clock
}

export interface RunningCosigner {
  /** The API users it signs for. */
  readonly parties: readonly string[]
  readonly adminUrl: string | undefined
  /** Settles when every runner stops (rejects when the hub refuses a token: pair that API user again). */
  readonly done: Promise<void>
  close(): Promise<void>
}

/**
 * The co-signer daemon: one runner per paired API user, each polling its mailbox on the hub, asking the API
 * user's callback handler to approve each signing attempt (approvals left pending by a stop are resumed
 * first), and taking its share of the signatures it approved.
 */
export async function startCosigner(options: CosignerOptions): Promise<RunningCosigner> {
  const folder = await openCosignerFolder(options.dir, options.unlock)
  try {
    return await run(folder, options)
  } catch (error) {
    await folder.close()
    throw error
  }
}

async function run(folder: CosignerFolder, options: CosignerOptions): Promise<RunningCosigner> {
  const pairings = await readPairings(folder)
  if (pairings.length === 0) throw new NotPaired(`${options.dir} is paired with no API user`)
  const clock = options.clock ?? systemClock
  const metrics = new CosignerMetrics()
  const cosignerKey = await callbackKey(folder)
  const schedule: CallbackSchedule = {
    timeoutMs: options.schedule?.timeoutMs ?? CALLBACK_DEFAULTS.timeoutMs,
    retryIntervalMs: options.schedule?.retryIntervalMs ?? CALLBACK_DEFAULTS.retryIntervalMs,
    maxRetries: options.schedule?.maxRetries ?? CALLBACK_DEFAULTS.maxRetries,
  }
  const linkUp = new Map<string, boolean>()
  const lifetime = new AbortController()
  const runners = pairings.map((pairing) => {
    const party = pairing.party.name
    const log = options.log.child({ party })
    const transport = createLinkTransport({
      mode: options.link ?? 'websocket',
      hubUrl: pairing.hubUrl,
      refreshToken: pairing.refreshToken,
      signal: lifetime.signal,
      log,
      clock,
    })
    const approverOptions = {
      party,
      store: folder.store,
      target: () => targetOf(folder, pairing, transport),
      cosignerKey,
      schedule,
      clock,
      log,
      observe: (_outcome: string, ms: number | undefined) => {
        if (ms !== undefined) metrics.callbackLatency.observe(ms / 1000)
      },
    }
    return new PartyRunner({
      party: pairing.party,
      hubKey: pairing.hubKey,
      transport,
      keyShares: folder.secrets.keyShares(party),
      presignatures: folder.secrets.presignatures(party),
      gate: signingGate(party, folder.store),
      approver: createApprover(approverOptions),
      configApprover: createConfigApprover({ ...approverOptions, configKey: pairing.configKey }),
      engines: { ecdsa: createDklsEcdsaEngine(), eddsa: createFrostEddsaEngine() },
      clock,
      log,
      onJobEnded: (kind, outcome, ms) => {
        metrics.requests.inc({ kind, outcome })
        if (kind !== 'approve') metrics.mpcLatency.observe({ kind }, ms / 1000)
      },
      onLinkState: (up) => {
        linkUp.set(party, up)
        metrics.linkUp.set({ party }, up ? 1 : 0)
      },
    })
  })
  for (const [index, runner] of runners.entries()) {
    const party = (pairings[index] as Pairing).party.name
    for (const approval of await folder.store.pendingApprovals(party))
      if ('statement' in approval.body) runner.configure(ConfigBodySchema.parse(approval.body))
      else runner.approve(ApproveBodySchema.parse(approval.body))
  }
  const done = Promise.all(runners.map((runner) => runner.run())).then(() => undefined)
  done.catch(() => undefined) // observed by the caller; never an unhandled rejection here
  let admin: RunningAdminServer | undefined
  try {
    admin =
      options.admin === undefined
        ? undefined
        : await startAdminServer({
            address: options.admin,
            log: options.log,
            metrics: { contentType: metrics.registry.contentType, metrics: () => metrics.registry.metrics() },
            readiness: async () => ({
              ready: pairings.every((pairing) => linkUp.get(pairing.party.name) === true),
              parties: Object.fromEntries(linkUp),
            }),
          })
  } catch (error) {
    await Promise.all(runners.map((runner) => runner.stop()))
    lifetime.abort()
    throw error
  }
  options.log.info(
    { parties: pairings.map((pairing) => pairing.party.name), admin: admin?.url },
    'co-signer polling the hub',
  )
  return {
    parties: pairings.map((pairing) => pairing.party.name),
    adminUrl: admin?.url,
    done,
    close: async () => {
      await admin?.close()
      await Promise.all(runners.map((runner) => runner.stop()))
      lifetime.abort() // ends the WebSockets
      await folder.close()
    },
  }
}

/** The local setting wins; else the one an Admin set on the hub; else none (approve automatically). */
async function targetOf(
  folder: CosignerFolder,
  pairing: Pairing,
  transport: LinkTransport,
): Promise<CallbackTarget | undefined> {
  const local = (await folder.store.pairings()).find(
    (stored) => stored.party === pairing.party.name,
  )?.callback
  if (local !== null && local !== undefined) return callbackTarget(CallbackSettingSchema.parse(local))
  const fromHub = await transport.callbackHandler()
  if (fromHub === undefined) return undefined
  return callbackTarget(
    CallbackSettingSchema.parse({
      url: fromHub.url,
      ...(fromHub.publicKey === undefined ? {} : { publicKey: fromHub.publicKey }),
      ...(fromHub.cert === undefined ? {} : { cert: fromHub.cert }),
    }),
  )
}
