import { createPrivateKey } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { startCosigner } from '../../cosigner/index.js'
import { loadConfigFile, startHandler, type RunningHandler } from '../../handler/index.js'
import {
  initWorkspace,
  issueConsoleLink,
  loadCloudCosignerConfig,
  loadHubConfig,
  startCloudCosigner,
  startHub,
  type HubConfig,
  type RunningHub,
} from '../../hub/index.js'
import { systemClock } from '../../core/index.js'
import { SIGNING_ALGORITHMS } from '../../protocol/index.js'
import { ConfigInvalid, parseListen } from '../../service/index.js'
import { listApiUsers } from '../../storage/index.js'
import { DevHubMoved, DevHubRefused } from '../errors.js'
import { ensureSigner, type DevApiUser } from './api-users.js'
import { Components } from './components.js'
import { ensurePairedCosigner, pointAtHandler } from './cosigners.js'
import { ensureDemoVault, type DemoVault } from './demo-vault.js'
import { prepareDevHandler } from './handler-setup.js'
import { hubClient, type HubClient } from './hub-client.js'
import { keySetsOf, waitForKeySets } from './key-sets.js'
import {
  cosignerPaths,
  DEV_SIGNERS,
  devLayout,
  devPaths,
  signerKeyPath,
  type DevLayout,
  type DevSigner,
} from './layout.js'
import { LogFiles } from './log-files.js'
import { lockFolder } from './lock.js'
import { removeDevState, writeDevState, type DevState } from './state.js'

export const DEV_DEFAULTS = {
  hubListen: '127.0.0.1:8443',
  handlerListen: '127.0.0.1:8080',
  handlerAdminListen: '127.0.0.1:9090',
  hubAdminListen: '127.0.0.1:9443',
  keysTimeoutMs: 10 * 60_000,
} as const

export interface DevOptions {
  readonly dir: string
  /** The hub's address; the one it was created with when left out (127.0.0.1:8443 at the first start). */
  readonly hubListen?: string
  readonly handlerListen: string
  readonly handlerAdminListen: string
  /** The hub's probes and its workspace console. */
  readonly hubAdminListen: string
  readonly keysTimeoutMs?: number
  /** One human line per step of the start-up. */
  readonly progress: (line: string) => void
  /** Aborts a start-up in progress (Ctrl-C while the keys are generated). */
  readonly signal: AbortSignal
}

/** A co-signer as the banner shows it. */
export interface DevCosigner {
  readonly name: string
  readonly apiUser: DevApiUser
  readonly callback: boolean
  /** The algorithms it holds a key set of. */
  readonly keySets: readonly string[]
}

export interface RunningDev {
  readonly layout: DevLayout
  readonly firstStart: boolean
  readonly hub: RunningHub
  /** The workspace's Owner: API users, pairing tokens, policy changes. */
  readonly owner: { readonly apiKey: string; readonly keyPath: string }
  readonly handler: RunningHandler
  /** The workspace console and a fresh single-use link enrolling the Owner's passkey; none on port 0. */
  readonly workspaceConsole?: { readonly url: string; readonly enrolLink: string }
  readonly cosigners: readonly DevCosigner[]
  readonly vault: DemoVault
  readonly state: DevState
  /** Resolves with a reason when one of the services stops on its own. */
  readonly ended: Promise<string>
  /** SIGHUP: the callback handler re-reads its policy file. */
  reload(): void
  close(): Promise<void>
}

/**
 * `countersign dev`: a hub, its two cloud co-signers, two API users' co-signers and the first one's
 * callback handler, all in this process, on embedded defaults under one folder. The first start creates
 * everything (workspace, API users through the hub's API, paired co-signer folders, the handler's keys and
 * policy, the demo vault) and waits for the workspace's key generation; later starts reuse it all.
 */
export async function startDev(options: DevOptions): Promise<RunningDev> {
  const layout = devLayout(options.dir)
  await mkdir(layout.root, { recursive: true, mode: 0o700 })
  const unlock = await lockFolder(layout.lock)
  try {
    if (existsSync(layout.hub) && !existsSync(layout.created)) {
      // Nothing in it was ever handed out, and a key generation cut short stays pending at the hub forever.
      options.progress(`the first start in ${layout.root} did not finish: starting over`)
      await Promise.all(devPaths(layout).map((path) => rm(path, { recursive: true, force: true })))
    }
    await mkdir(layout.logs, { recursive: true, mode: 0o700 })
  } catch (error) {
    await unlock()
    throw error
  }
  const run: Run = { layout, options, components: new Components(), logs: new LogFiles(layout.logs), unlock }
  try {
    return await bringUp(run)
  } catch (error) {
    await stopAll(run)
    throw error
  }
}

/** One start-up: where it runs, what it was asked, and what it started so far (stopped on failure). */
interface Run {
  readonly layout: DevLayout
  readonly options: DevOptions
  readonly components: Components
  readonly logs: LogFiles
  readonly unlock: () => Promise<void>
}

async function stopAll(run: Run): Promise<void> {
  try {
    await run.components.close()
  } finally {
    await run.logs.close()
    await run.unlock()
  }
}

async function bringUp(run: Run): Promise<RunningDev> {
  const { layout, options, components } = run
  const firstStart = !existsSync(layout.hubConfig)
  const hub = await startWorkspace(run, firstStart)
  const owner = await ownerClient(hub, layout)
  const workspaceConsole = await ownerConsoleLink(hub, owner.apiKey)
  const [first, second] = await Promise.all([
    provisionSigner(owner, hub, layout, DEV_SIGNERS[0]),
    provisionSigner(owner, hub, layout, DEV_SIGNERS[1]),
  ])
  options.signal.throwIfAborted()
  const handler = await startCallbackHandler(run, first)
  await startCosigners(run, hub, first, second)
  const vault = await ensureDemoVault(hubClient(hub.url, first.apiUser.id, first.apiUser.privateKey))
  const cosigners: DevCosigner[] = []
  for (const { signer, apiUser } of [first, second])
    cosigners.push({
      name: signer.cosigner,
      apiUser,
      callback: signer.callback,
      keySets: await keySetsOf(hub, apiUser.id),
    })
  const state: DevState = {
    version: 1,
    pid: process.pid,
    hubUrl: hub.url,
    handlerUrl: handler.url,
    apiUser: { name: first.apiUser.name, apiKey: first.apiUser.id, privateKey: first.apiUser.keyPath },
    demoVault: { id: vault.id, name: vault.name, addresses: { ...vault.addresses } },
  }
  await writeDevState(layout.state, state)
  if (firstStart) await writeFile(layout.created, `${new Date().toISOString()}\n`)
  return {
    layout,
    firstStart,
    hub,
    owner: { apiKey: owner.apiKey, keyPath: ownerKeyPath(layout) },
    handler,
    ...(workspaceConsole === undefined ? {} : { workspaceConsole }),
    cosigners,
    vault,
    state,
    ended: components.ended,
    reload: () => handler.reloadPolicy(),
    close: async () => {
      await removeDevState(layout.state)
      await stopAll(run)
    },
  }
}

/** The workspace (created at the first start), its hub and its two cloud co-signers. */
async function startWorkspace(run: Run, firstStart: boolean): Promise<RunningHub> {
  const { layout, options, components, logs } = run
  if (firstStart) {
    options.progress(`first start: creating the workspace in ${layout.hub}`)
    await initWorkspace({ dir: layout.hub, listen: fixedListen(options.hubListen ?? DEV_DEFAULTS.hubListen) })
  }
  const hubConfig = withWorkspaceConsole(loadHubConfig(layout.hubConfig, {}), options.hubAdminListen)
  if (options.hubListen !== undefined) checkHubListen(hubConfig, options.hubListen, layout)
  const hub = await startHub(hubConfig, { log: logs.logger('hub', 'countersign-hub') })
  components.add({ name: 'hub', close: () => hub.close() })
  options.progress(`hub listening on ${hub.url}`)
  for (const party of ['cloud1', 'cloud2'] as const) {
    const config = loadCloudCosignerConfig(join(layout.hub, party, 'cloud.yaml'), {})
    const cloud = await startCloudCosigner(
      { ...config, hubUrl: hub.url },
      { logger: logs.logger(party, `cloud-cosigner:${party}`) },
    )
    components.add({ name: party, close: () => cloud.close(), done: cloud.done })
  }
  options.progress('cloud co-signers cloud1 and cloud2 linked to the hub')
  return hub
}

/** An API user and its co-signer's folder, paired; with the public key its callback handler trusts. */
interface ProvisionedSigner {
  readonly signer: DevSigner
  readonly apiUser: DevApiUser
  readonly cosignerPublicKey: string
}

async function provisionSigner(
  owner: HubClient,
  hub: RunningHub,
  layout: DevLayout,
  signer: DevSigner,
): Promise<ProvisionedSigner> {
  const apiUser = await ensureSigner(owner, signer.name, signerKeyPath(layout, signer))
  const cosignerPublicKey = await ensurePairedCosigner(cosignerPaths(layout, signer), {
    hubUrl: hub.url,
    apiUserId: apiUser.id,
    name: signer.cosigner,
    token: async () =>
      (await owner.post<{ pairingToken: string }>(`/v1/management/api_users/${apiUser.id}/pairing_token`))
        .pairingToken,
  })
  return { signer, apiUser, cosignerPublicKey }
}

/** The callback handler, trusting the signer's co-signer, and that co-signer pointed at it. */
async function startCallbackHandler(run: Run, signer: ProvisionedSigner): Promise<RunningHandler> {
  const { layout, options, components, logs } = run
  const setup = await prepareDevHandler(
    layout.handler,
    { api: options.handlerListen, admin: options.handlerAdminListen },
    {
      cosigner: { name: signer.signer.cosigner, publicKeyPem: signer.cosignerPublicKey },
      apiUser: { id: signer.apiUser.id, name: signer.apiUser.name },
    },
  )
  const handler = await startHandler(loadConfigFile(setup.configPath, {}), {
    log: logs.logger('handler', 'countersign-handler'),
  })
  components.add({ name: 'callback handler', close: () => handler.close() })
  await pointAtHandler(cosignerPaths(layout, signer.signer), signer.apiUser.id, {
    url: handler.url,
    publicKey: await readFile(setup.handlerPublicKey, 'utf8'),
  })
  options.progress(`callback handler listening on ${handler.url}`)
  return handler
}

/**
 * The first co-signer alone until it holds its key sets, then the second: two co-signers online before the
 * workspace has keys would each start a key generation, and the second one recorded would be refused.
 */
async function startCosigners(
  run: Run,
  hub: RunningHub,
  first: ProvisionedSigner,
  second: ProvisionedSigner,
): Promise<void> {
  const { options } = run
  await startDevCosigner(run, first.signer)
  if ((await keySetsOf(hub, first.apiUser.id)).length < SIGNING_ALGORITHMS.length)
    options.progress(
      "generating the workspace's keys (DKLs23 ECDSA, FROST Ed25519) with the first co-signer and the two clouds…",
    )
  await waitForKeySets(hub, first.apiUser.id, {
    timeoutMs: options.keysTimeoutMs ?? DEV_DEFAULTS.keysTimeoutMs,
    progress: (seconds) => options.progress(`  …still generating (${seconds} s)`),
    signal: options.signal,
  })
  await startDevCosigner(run, second.signer)
  options.progress(`co-signers ${first.signer.cosigner} and ${second.signer.cosigner} linked to the hub`)
}

async function startDevCosigner(run: Run, signer: DevSigner): Promise<void> {
  const cosigner = await startCosigner({
    dir: cosignerPaths(run.layout, signer).dir,
    unlock: {},
    log: run.logs.logger(signer.cosigner, 'countersign-cosigner'),
  })
  run.components.add({ name: signer.cosigner, close: () => cosigner.close(), done: cosigner.done })
}

/**
 * The hub's admin listener with the workspace console at http://localhost:PORT (passkeys need a host name,
 * and loopback is a secure context); no console on a port chosen at start, whose origin is not known yet.
 */
function withWorkspaceConsole(config: HubConfig, adminListen: string): HubConfig {
  const admin = parseListen(adminListen)
  if (admin === undefined) throw new ConfigInvalid([`--hub-admin-listen: "${adminListen}" is not host:port`])
  if (admin.port === 0) return { ...config, admin }
  const origin = `http://localhost:${admin.port}`
  return { ...config, admin, console: { origin, rpId: 'localhost', sessionTtlMs: CONSOLE_SESSION_MS } }
}

const CONSOLE_SESSION_MS = 8 * 3_600_000
const CONSOLE_LINK_TTL_MS = 24 * 3_600_000

/**
 * A single-use link (24 h) enrolling a passkey for the console user `dev-owner`, role OWNER, who votes on
 * policy drafts as the Owner API user: issued at every start, so the banner always shows one that works.
 */
async function ownerConsoleLink(
  hub: RunningHub,
  ownerApiUser: string,
): Promise<RunningDev['workspaceConsole']> {
  if (hub.consoleUrl === undefined) return undefined
  const enrolLink = await issueConsoleLink(hub.hub.db, systemClock, {
    name: DEV_CONSOLE_OWNER,
    role: 'OWNER',
    origin: new URL(hub.consoleUrl).origin,
    ttlMs: CONSOLE_LINK_TTL_MS,
    apiUserId: ownerApiUser,
  })
  return { url: hub.consoleUrl, enrolLink }
}

export const DEV_CONSOLE_OWNER = 'dev-owner'

/** The hub's co-signers are paired with its URL: it cannot move to another port once they are. */
function fixedListen(listen: string): string {
  if (parseListen(listen)?.port === 0)
    throw new ConfigInvalid([
      `--hub-listen: "${listen}" asks for any free port; the co-signers are paired with the hub's URL, so give a fixed one`,
    ])
  return listen
}

function checkHubListen(config: HubConfig, listen: string, layout: DevLayout): void {
  const asked = parseListen(fixedListen(listen))
  if (asked === undefined) throw new ConfigInvalid([`--hub-listen: "${listen}" is not host:port`])
  if (asked.host !== config.host || asked.port !== config.port)
    throw new DevHubMoved(
      `the co-signers in ${layout.root} are paired with the hub on ${config.host}:${config.port}, not ${listen}`,
    )
}

const ownerKeyPath = (layout: DevLayout) => join(layout.hub, 'owner.key')

/** The Owner `hub init` created, calling the API with the key init wrote beside hub.yaml. */
async function ownerClient(hub: RunningHub, layout: DevLayout): Promise<HubClient> {
  const owner = (await hub.hub.db.read((db) => listApiUsers(db))).find((user) => user.role === 'OWNER')
  if (owner === undefined) throw new DevHubRefused(`the workspace in ${layout.hub} has no Owner`)
  const key = createPrivateKey(await readFile(ownerKeyPath(layout), 'utf8'))
  return hubClient(hub.url, owner.id, key)
}
