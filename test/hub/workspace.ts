/**
 * A whole workspace for end-to-end tests: `hub init` in a temporary folder, the hub in this process (so
 * tests can look at its store), the two cloud co-signers and a customer co-signer as child processes run
 * from the built `countersign` command, the way an operator runs them. Options: the hub's store (a
 * PostgreSQL URL for replicas, then `startReplica` runs a second hub on it), webhook endpoints in hub.yaml, and
 * the workspace console on an admin listener.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Fireblocks, type TransactionRequest, type TransactionResponse } from '@fireblocks/ts-sdk'
import { keccak_256 } from '@noble/hashes/sha3.js'
import pino from 'pino'
import { createCsr, generateRsaKeyPair, signRequest } from '../../src/keys/index.js'
import { initWorkspace, loadHubConfig, startHub, type RunningHub } from '../../src/hub/index.js'
import { openCloudLog, readWorkspaceKeys } from '../../src/storage/index.js'
import { freePort } from '../support/ports.js'
import { spawnCli, type CliProcess } from '../support/process.js'

export interface ApiUser {
  readonly id: string
  readonly privateKey: KeyObject
  readonly privateKeyPem: string
}

export interface WorkspaceOptions {
  /** hub.yaml's `store:`; SQLite in the workspace folder when absent. */
  readonly store?: string
  /** URLs written into hub.yaml's `webhooks.endpoints` (v1 payloads, every event). */
  readonly webhookEndpoints?: readonly string[]
  /** hub.yaml's `signing:` budgets and lease (durations), e.g. a short one to see an attempt fail. */
  readonly signing?: { readonly budget?: string; readonly approvalBudget?: string; readonly lease?: string }
  /** The workspace console on an admin listener of its own, at http://localhost:PORT (hub.yaml's admin and console). */
  readonly console?: boolean
}

export interface CosignerStartOptions {
  /** More `countersign cosigner start` options (callback schedule, admin listener...). */
  readonly startArgs?: readonly string[]
}

export interface Workspace {
  readonly dir: string
  /** hub.yaml, for the CLI's `hub` commands. */
  readonly configPath: string
  readonly hub: RunningHub
  readonly url: string
  readonly owner: ApiUser
  /** The official SDK as `user`, against this hub or another replica's URL. */
  sdk(user: ApiUser, hubUrl?: string): Fireblocks
  /** A signed request to the hub's REST API, as any client would send it. */
  call(user: ApiUser, method: string, path: string, body?: unknown): Promise<Response>
  createApiUser(name: string, role: string): Promise<ApiUser>
  /** Pairs a co-signer (child process, folder `<dir>/<name>`) with `user` and waits until its key sets exist. */
  startCosigner(user: ApiUser, name: string, options?: CosignerStartOptions): Promise<CliProcess>
  /** Stops the co-signer of folder `<dir>/<name>` with `signal` and waits for it to exit. */
  stopCosigner(name: string, signal: NodeJS.Signals): Promise<void>
  /** Starts the co-signer of folder `<dir>/<name>` again (after it was stopped or killed). */
  restartCosigner(name: string, options?: CosignerStartOptions): CliProcess
  /** A new pairing token for `user`, issued by the Owner. */
  pairingToken(user: ApiUser): Promise<string>
  /** Publishes a transaction policy: the Owner proposes and submits it, `approver` (an Admin) approves it. */
  publishPolicy(policy: string, approver: ApiUser): Promise<void>
  /** Another hub on the same hub.yaml (so the same store), listening on its own port; closed by `close`. */
  startReplica(): Promise<RunningHub>
  /** The same as a child process (`countersign hub start`), to be killed; its URL once it listens. */
  startReplicaProcess(): Promise<{ readonly url: string; readonly process: CliProcess }>
  /** Stops the two cloud co-signers (e.g. to read their logs); `close` stops whatever is still running. */
  stopClouds(): Promise<void>
  close(): Promise<void>
}

export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

/** Lists `urls` under hub.yaml's `webhooks.endpoints` (init writes none). */
function addWebhookEndpoints(configPath: string, urls: readonly string[]): void {
  const yaml = readFileSync(configPath, 'utf8')
  const endpoints = urls.map((url) => `\n    - url: ${url}`).join('')
  writeFileSync(configPath, yaml.replace('endpoints: []', `endpoints:${endpoints}`))
}

/** Writes hub.yaml's `signing:` budgets. */
function addSigningBudgets(configPath: string, signing: NonNullable<WorkspaceOptions['signing']>): void {
  const lines = Object.entries(signing).map(([key, value]) => `\n  ${key}: ${value}`)
  writeFileSync(configPath, `${readFileSync(configPath, 'utf8')}\nsigning:${lines.join('')}\n`)
}

/** Adds an admin listener and the workspace console on it to hub.yaml; the console's origin. */
async function addConsole(configPath: string): Promise<void> {
  const port = await freePort()
  const lines = ['admin:', `  listen: 127.0.0.1:${port}`, 'console:', `  origin: http://localhost:${port}`]
  writeFileSync(configPath, `${readFileSync(configPath, 'utf8')}\n${lines.join('\n')}\n`)
}

async function stop(processes: CliProcess[]): Promise<void> {
  for (const child of processes) child.child.kill('SIGTERM')
  await Promise.all(processes.map((child) => child.exited))
}

export async function startWorkspace(options: WorkspaceOptions = {}): Promise<Workspace> {
  const dir = mkdtempSync(join(tmpdir(), 'cs-hub-'))
  const children: CliProcess[] = []
  const clouds: CliProcess[] = []
  const cosigners = new Map<string, CliProcess>()
  const replicas: RunningHub[] = []
  const port = await freePort()
  const init = await initWorkspace({
    dir,
    listen: `127.0.0.1:${port}`,
    ...(options.store === undefined ? {} : { store: options.store }),
  })
  if (options.webhookEndpoints !== undefined) addWebhookEndpoints(init.configPath, options.webhookEndpoints)
  if (options.signing !== undefined) addSigningBudgets(init.configPath, options.signing)
  if (options.console === true) await addConsole(init.configPath)
  const log = pino({ level: process.env.HUB_TEST_LOG ?? 'silent' })
  const hub = await startHub(loadHubConfig(init.configPath, {}), { log })
  const url = hub.url
  const ownerPem = readFileSync(init.ownerKeyPath as string, 'utf8')
  const owner: ApiUser = {
    id: init.ownerApiKey,
    privateKey: createPrivateKey(ownerPem),
    privateKeyPem: ownerPem,
  }
  for (const party of ['cloud1', 'cloud2'] as const)
    clouds.push(spawnCli(['cloud-cosigner', 'start', '--config', init.cloudConfigs[party]], dir))

  const sdk = (user: ApiUser, hubUrl = url) =>
    new Fireblocks({ apiKey: user.id, secretKey: user.privateKeyPem, basePath: `${hubUrl}/v1` })

  const call = async (user: ApiUser, method: string, path: string, body?: unknown) => {
    const text = body === undefined ? undefined : JSON.stringify(body)
    const { headers } = await signRequest({
      apiKey: user.id,
      privateKey: user.privateKey,
      url: path,
      ...(text === undefined ? {} : { body: text }),
    })
    return fetch(`${url}${path}`, {
      method,
      headers: { ...headers, 'content-type': 'application/json' },
      ...(text === undefined ? {} : { body: text }),
    })
  }

  const createApiUser = async (name: string, role: string): Promise<ApiUser> => {
    const pair = await generateRsaKeyPair(2048)
    await sdk(owner).apiUser.createApiUser({
      createAPIUser: { name, role, csrPem: createCsr(pair.privateKey, `/CN=${name}`) },
    })
    const listed = await sdk(owner).apiUser.getApiUsers()
    const id = listed.data.users.find((user) => user.name === name)?.id
    if (id === undefined) throw new Error(`API user ${name} was not created`)
    return { id, privateKey: pair.privateKey, privateKeyPem: pair.privateKeyPem }
  }

  const pairingToken = async (user: ApiUser) => {
    const issued = (await (
      await call(owner, 'POST', `/v1/management/api_users/${user.id}/pairing_token`)
    ).json()) as { pairingToken: string }
    return issued.pairingToken
  }

  /** The JSON body of `call`'s answer, once its status is `status`. */
  const answer = async <T>(response: Promise<Response>, status: number): Promise<T> => {
    const answered = await response
    const text = await answered.text()
    if (answered.status !== status) throw new Error(`expected ${status}, got ${answered.status}: ${text}`)
    return JSON.parse(text) as T
  }

  const publishPolicy = async (policy: string, approver: ApiUser) => {
    const proposed = await answer<{ draftResponse: { draftId: string | null }; validation: unknown }>(
      call(owner, 'PUT', '/v1/tap/draft', { policy }),
      200,
    )
    const { draftId } = proposed.draftResponse
    if (draftId === null)
      throw new Error(`the policy does not compile: ${JSON.stringify(proposed.validation)}`)
    await answer(call(owner, 'POST', '/v1/tap/draft', { draftId }), 201)
    const approved = await answer<{ state: string }>(
      call(approver, 'POST', `/v1/tap/drafts/${draftId}/approve`),
      200,
    )
    if (approved.state !== 'published') throw new Error(`the policy is ${approved.state}, not published`)
  }

  const restartCosigner = (name: string, options: CosignerStartOptions = {}) => {
    const args = [
      'cosigner',
      'start',
      '--dir',
      join(dir, name),
      '--log-level',
      'warn',
      ...(options.startArgs ?? []),
    ]
    const cosigner = spawnCli(args, dir)
    children.push(cosigner)
    cosigners.set(name, cosigner)
    return cosigner
  }

  const stopCosigner = async (name: string, signal: NodeJS.Signals) => {
    const cosigner = cosigners.get(name)
    if (cosigner === undefined) throw new Error(`no co-signer ${name} was started`)
    cosigner.child.kill(signal)
    await cosigner.exited
  }

  const startCosigner = async (user: ApiUser, name: string, options: CosignerStartOptions = {}) => {
    const cosignerDir = join(dir, name)
    const paired = spawnCli(['cosigner', 'pair', '--hub', url, '--dir', cosignerDir, '--name', name], dir, {
      COUNTERSIGN_PAIRING_TOKEN: await pairingToken(user),
    })
    if ((await paired.exited) !== 0) throw new Error(`pairing failed:\n${paired.output()}`)
    const cosigner = restartCosigner(name, options)
    await until(
      'the key sets of the first co-signer',
      async () => ((await hub.hub.db.read(readWorkspaceKeys)).length === 2 ? true : undefined),
      240_000,
    )
    return cosigner
  }

  return {
    dir,
    configPath: init.configPath,
    hub,
    url,
    owner,
    sdk,
    call,
    createApiUser,
    startCosigner,
    restartCosigner,
    stopCosigner,
    pairingToken,
    publishPolicy,
    startReplica: async () => {
      const listen = `127.0.0.1:${await freePort()}`
      const replica = await startHub(loadHubConfig(init.configPath, { COUNTERSIGN_LISTEN: listen }), { log })
      replicas.push(replica)
      return replica
    },
    startReplicaProcess: async () => {
      const listen = `127.0.0.1:${await freePort()}`
      const replica = spawnCli(['hub', 'start', '--config', init.configPath], dir, {
        COUNTERSIGN_LISTEN: listen,
      })
      children.push(replica)
      return { url: await replica.listening, process: replica }
    },
    stopClouds: () => stop(clouds),
    close: async () => {
      await stop([...children, ...clouds])
      for (const replica of replicas) await replica.close()
      await hub.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** A 32-byte digest (hex) of `label`: distinct RAW contents, as each test needs its own. */
export const digestOf = (label: string): string =>
  Buffer.from(keccak_256(new TextEncoder().encode(label))).toString('hex')

/** A RAW signature request of `content` (hex) on vault 0's asset (ETH_TEST6 unless told). */
export function rawRequest(
  content: string,
  options: { readonly assetId?: string; readonly note?: string; readonly externalTxId?: string } = {},
): TransactionRequest {
  return {
    operation: 'RAW',
    assetId: options.assetId ?? 'ETH_TEST6',
    source: { type: 'VAULT_ACCOUNT', id: '0' },
    ...(options.note === undefined ? {} : { note: options.note }),
    ...(options.externalTxId === undefined ? {} : { externalTxId: options.externalTxId }),
    extraParameters: { rawMessageData: { messages: [{ content }] } },
  }
}

/** Creates `rawRequest(content, options)` through the SDK; resolves with the transaction's id. */
export async function createRaw(
  fireblocks: Fireblocks,
  content: string,
  options: Parameters<typeof rawRequest>[1] = {},
): Promise<string> {
  const created = await fireblocks.transactions.createTransaction({
    transactionRequest: rawRequest(content, options),
  })
  return created.data.id as string
}

/**
 * What the cloud co-signers' logs show against `signed` (each transaction with the content it asked for,
 * and the attempt that signed it): every content signed exactly once by each cloud, under that transaction
 * and attempt, and nothing else signed. The differences, as lines; none is the expected answer. A
 * transaction completes with the first holder's signature, so a busy cloud may still be finishing its own:
 * this waits (up to a minute) for the logs to match, then stops the clouds and reads them a last time.
 */
export async function cloudSignatureDifferences(
  workspace: Pick<Workspace, 'dir' | 'stopClouds'>,
  signed: readonly { readonly txId: string; readonly content: string; readonly attempt: number }[],
): Promise<string[]> {
  const deadline = Date.now() + 60_000
  while ((await signatureDifferences(workspace, signed)).length > 0 && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 500))
  await workspace.stopClouds()
  return signatureDifferences(workspace, signed)
}

async function signatureDifferences(
  workspace: Pick<Workspace, 'dir'>,
  signed: readonly { readonly txId: string; readonly content: string; readonly attempt: number }[],
): Promise<string[]> {
  const differences: string[] = []
  for (const party of ['cloud1', 'cloud2'] as const) {
    const byContent = await cloudLogByContent(workspace, party, 'cloud-signature')
    if (byContent.size !== signed.length)
      differences.push(`${party} signed ${byContent.size} contents, not ${signed.length}`)
    for (const { txId, content, attempt } of signed) {
      const signatures = byContent.get(content) ?? []
      if (signatures.length !== 1 || signatures[0] !== `${txId}:${attempt}`)
        differences.push(
          `${party} signed ${txId}'s content as [${signatures.join(', ')}], not once as ${attempt}`,
        )
    }
  }
  return differences
}

/** Statuses a transaction never leaves. */
export const TERMINAL_STATUSES = ['COMPLETED', 'FAILED', 'BLOCKED', 'REJECTED', 'CANCELLED', 'TIMEOUT']

/** The transaction as the SDK reads it, once its status is one of `statuses` (by default: finished). */
export async function transactionIn(
  fireblocks: Fireblocks,
  txId: string,
  statuses: readonly string[] = TERMINAL_STATUSES,
): Promise<TransactionResponse> {
  return until(`transaction ${txId} to be ${statuses.join(' or ')}`, async () => {
    const { data } = await fireblocks.transactions.getTransaction({ txId })
    return statuses.includes(data.status ?? '') ? data : undefined
  })
}

/**
 * What one cloud co-signer's own log says, after checking its hash chain: by content, the `txId:attempt`
 * of each authorization it joined (`cloud-authorization`) or of each signature it completed
 * (`cloud-signature`). Read once the clouds are stopped (`stopClouds`).
 */
export async function cloudLogByContent(
  workspace: Pick<Workspace, 'dir'>,
  party: 'cloud1' | 'cloud2',
  event: 'cloud-authorization' | 'cloud-signature',
): Promise<Map<string, string[]>> {
  const log = await openCloudLog(`sqlite:${join(workspace.dir, party, 'cloud.db')}`)
  try {
    const verified = await log.verifyLog()
    if (!verified.ok) throw new Error(`the log of ${party} does not verify: ${JSON.stringify(verified)}`)
    const byContent = new Map<string, string[]>()
    for await (const entry of log.readLog()) {
      if (entry.event !== event) continue
      const { content, txId, attempt } = entry.body as { content: string; txId: string; attempt: number }
      byContent.set(content, [...(byContent.get(content) ?? []), `${txId}:${attempt}`])
    }
    return byContent
  } finally {
    await log.close()
  }
}
