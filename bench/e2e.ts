/**
 * Issue 15: RAW ECDSA signatures (ETH_TEST6, MPC_ECDSA_SECP256K1) through every process, as an operator runs
 * them: the hub (in this process, as test/hub/workspace.ts runs it), the two cloud co-signers, two customer
 * co-signers and a callback handler (`countersign handler start`, whose policy approves RAW) as child
 * processes of the built command.
 *
 * Latency: sequential transactions after a warm-up, each from just before its REST POST to the hub's commit
 * of COMPLETED (the transaction's `lastUpdated`, so the client's polling interval is not in the figure). The
 * split comes from the hub's own link jobs, created and finished on its clock: the `approve` job (the
 * co-signer asks its callback handler: mailbox delivery, RSA-signed request, the handler's policy and
 * durable record, RSA-signed answer), the `sign` job (the MPC rounds of the three holders, relayed through
 * the hub's mailboxes), and the hub for the rest (REST, policy, queueing, the cloud authorization, state
 * changes). The co-signer's own /metrics say how much of the approve job was the handler call itself.
 *
 * Throughput: a batch of transactions submitted at once, from the first POST to the last COMPLETED, once with
 * one designated co-signer and once with a group of two; which co-signer signed each is printed so the ratio
 * can be read against the hub's dispatch. Figures only, never pass/fail. Needs `dist/`: `npm run bench`
 * builds it first (the startup benchmark's `npm pack`), `npm run bench:e2e` builds it itself.
 */
import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Fireblocks } from '@fireblocks/ts-sdk'
import { systemClock } from '../src/core/index.js'
import { prepareDevelopmentMode } from '../src/handler/index.js'
import { writePublicFile } from '../src/keys/index.js'
import { HubLinkStore, readKeySets, type LinkJob } from '../src/storage/index.js'
import {
  createRaw,
  digestOf,
  startWorkspace,
  transactionIn,
  until,
  type ApiUser,
  type Workspace,
} from '../test/hub/workspace.js'
import { freePort } from '../test/support/ports.js'
import { spawnCli, type CliProcess } from '../test/support/process.js'
import { cpuSecondsBetween, processTree, snapshotCpu } from './handler/cpu.js'

const ROOT = resolve(import.meta.dirname, '..')
/** The development policy `countersign dev` gives its handler: every RAW signature is approved. */
const HANDLER_POLICY = join(ROOT, 'examples', 'policies', 'dev.yaml')
const WARMUP = 5
const SEQUENTIAL = 40
const BATCH = 40
const ONE = 'one co-signer'
const GROUP = 'two co-signers'

type Print = (line: string) => void

interface Cosigner {
  readonly name: string
  readonly user: ApiUser
  readonly metricsUrl: string
}

interface System {
  readonly workspace: Workspace
  readonly fireblocks: Fireblocks
  readonly cosigners: readonly Cosigner[]
  readonly jobs: HubLinkStore
}

/** One finished transaction, on the hub's clock (milliseconds). */
interface Finished {
  readonly status: string
  readonly submittedAt: number
  readonly completedAt: number
  readonly signedBy: readonly string[]
}

interface Split {
  readonly totalMs: number
  readonly callbackMs: number
  readonly mpcMs: number
  readonly hubMs: number
  /** The hub's part: before the approve job, between the approve and the sign job, after the sign job. */
  readonly beforeMs: number
  readonly betweenMs: number
  readonly afterMs: number
}

const fmt = (value: number) => value.toFixed(0)

function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN
}

/** Runs the built command to its end; throws with its output when it fails. */
async function cli(args: readonly string[], cwd: string): Promise<string> {
  const run = spawnCli(args, cwd)
  const code = await run.exited
  if (code !== 0) throw new Error(`countersign ${args.slice(0, 2).join(' ')} failed:\n${run.output()}`)
  return run.output()
}

/** Two Signer API users, each paired with its own co-signer (metrics on an admin port), both holding sets. */
async function startCosigners(workspace: Workspace): Promise<Cosigner[]> {
  const cosigners: Cosigner[] = []
  for (const name of ['cosigner-a', 'cosigner-b']) {
    const user = await workspace.createApiUser(`bench ${name}`, 'SIGNER')
    const admin = `127.0.0.1:${await freePort()}`
    await workspace.startCosigner(user, name, { startArgs: ['--admin', admin] })
    cosigners.push({ name, user, metricsUrl: `http://${admin}/metrics` })
  }
  // The second co-signer's sets are reshared from the first's: two algorithms, two co-signers.
  await until(
    'both co-signers to hold both key sets',
    async () => ((await workspace.hub.hub.db.read(readKeySets)).length === 4 ? true : undefined),
    240_000,
  )
  return cosigners
}

/**
 * The callback handler as its own process (a development folder in the workspace: keys, the policy, a SQLite
 * store), trusting both co-signers' keys and answering for both API users; each co-signer is pointed at it.
 */
async function startCallbackHandler(
  workspace: Workspace,
  cosigners: readonly Cosigner[],
): Promise<CliProcess> {
  const dir = join(workspace.dir, 'handler')
  const keyFile = (cosigner: Cosigner) => join(dir, 'keys', `${cosigner.name}.pub`)
  const setup = await prepareDevelopmentMode(dir, '127.0.0.1:0', '127.0.0.1:0', {
    policySource: HANDLER_POLICY,
    cosigners: cosigners.map((cosigner) => ({ name: cosigner.name, publicKey: keyFile(cosigner) })),
    apiUsers: cosigners.map((cosigner) => ({ signerId: cosigner.user.id, name: cosigner.name })),
  })
  for (const cosigner of cosigners) {
    const publicKey = await cli(['cosigner', 'public-key', '--dir', join(workspace.dir, cosigner.name)], dir)
    await writePublicFile(keyFile(cosigner), publicKey, { force: true })
  }
  const handler = spawnCli(['handler', 'start', '--config', setup.configPath], dir)
  const url = await handler.listening
  for (const cosigner of cosigners)
    await cli(
      [
        'cosigner',
        'callback',
        'set',
        '--dir',
        join(workspace.dir, cosigner.name),
        '--api-user',
        cosigner.user.id,
        '--url',
        url,
        '--public-key',
        setup.handlerPublicKey,
      ],
      dir,
    )
  return handler
}

/** Vault 0 with ETH_TEST6, and a policy whose note designates co-signer A alone or the group {A, B}. */
async function prepareWorkspace(system: System): Promise<void> {
  const { workspace, fireblocks, cosigners } = system
  const [a, b] = cosigners.map((cosigner) => cosigner.user.id)
  await fireblocks.vaults.createVaultAccount({ createVaultAccountRequest: { name: 'e2e bench' } })
  await fireblocks.vaults.createVaultAccountAsset({ vaultAccountId: '0', assetId: 'ETH_TEST6' })
  const admin = await workspace.createApiUser('bench admin', 'ADMIN')
  await workspace.publishPolicy(
    `version: 1
groups:
  signing: [${a}, ${b}]
rules:
  - { id: one, match: { operation: [RAW] }, when: "note == '${ONE}'", action: ALLOW, signers: [${a}] }
  - { id: group, match: { operation: [RAW], source.type: VAULT_ACCOUNT }, when: "note == '${GROUP}'", action: ALLOW, signers: [group:signing] }
`,
    admin,
  )
}

/**
 * Creates a RAW signature of a fresh digest (a cloud co-signer never signs one content under two
 * transactions) and resolves with its id and the time just before the POST.
 */
async function submitRaw(
  fireblocks: Fireblocks,
  note: string,
): Promise<{ txId: string; submittedAt: number }> {
  const content = digestOf(`e2e bench ${randomUUID()}`)
  const submittedAt = Date.now()
  return { txId: await createRaw(fireblocks, content, { note }), submittedAt }
}

async function finished(fireblocks: Fireblocks, txId: string, submittedAt: number): Promise<Finished> {
  const tx = await transactionIn(fireblocks, txId)
  return {
    status: tx.status ?? '',
    submittedAt,
    completedAt: Number(tx.lastUpdated),
    signedBy: tx.signedBy ?? [],
  }
}

/** The transaction's time split by the hub's link jobs of its last attempt (one approve, one sign job). */
async function splitOf(system: System, txId: string, tx: Finished): Promise<Split> {
  const jobs = await system.jobs.jobsOfTransaction(txId)
  const approve = jobs.findLast((job) => job.kind === 'approve')
  const sign = jobs.findLast((job) => job.kind === 'sign')
  if (approve === undefined || sign === undefined)
    throw new Error(`transaction ${txId} has no approve and sign job`)
  const duration = (job: LinkJob) => job.updatedAt - job.createdAt
  const totalMs = tx.completedAt - tx.submittedAt
  return {
    totalMs,
    callbackMs: duration(approve),
    mpcMs: duration(sign),
    hubMs: totalMs - duration(approve) - duration(sign),
    beforeMs: approve.createdAt - tx.submittedAt,
    betweenMs: sign.createdAt - approve.updatedAt,
    afterMs: tx.completedAt - sign.updatedAt,
  }
}

/** Sum and count of a histogram series in a Prometheus text exposition (`series` with its labels). */
function histogram(text: string, series: string): { sum: number; count: number } {
  const value = (suffix: string) => {
    const [name, labels = ''] = series.split(/(?=\{)/)
    const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}${suffix}${labels} `))
    return Number(line?.split(' ')[1] ?? Number.NaN)
  }
  return { sum: value('_sum'), count: value('_count') }
}

const CALLBACK_SERIES = 'countersign_cosigner_callback_seconds'
const MPC_SERIES = 'countersign_cosigner_mpc_seconds{kind="sign"}'

/** The mean (ms) of `series` between two scrapes of the same co-signer's /metrics. */
function meanBetween(before: string, after: string, series: string): number {
  const [from, to] = [histogram(before, series), histogram(after, series)]
  return ((to.sum - from.sum) / (to.count - from.count)) * 1000
}

const scrape = async (cosigner: Cosigner) => (await fetch(cosigner.metricsUrl)).text()

/**
 * The system's processes by role: this one (the hub, and the REST client signing each request), and each
 * child by its command line (a cloud co-signer by its config's folder, a co-signer by its --dir).
 */
function processRoles(): Map<string, number> {
  const roles = new Map<string, number>([['hub+client', process.pid]])
  for (const pid of processTree(snapshotCpu(), process.pid).slice(1)) {
    let args: string[]
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
    } catch {
      continue // it exited meanwhile
    }
    const after = (flag: string) => args[args.indexOf(flag) + 1] ?? ''
    if (args.includes('cloud-cosigner')) roles.set(basename(dirname(after('--config'))), pid)
    else if (args.includes('cosigner') && args.includes('start')) roles.set(basename(after('--dir')), pid)
    else if (args.includes('handler')) roles.set('handler', pid)
  }
  return roles
}

/** `work`, with the CPU milliseconds per signature each process spent during it (user + system, /proc). */
async function perSignatureCpu<T extends { readonly signatures: number }>(
  work: () => Promise<T>,
): Promise<T & { readonly cpu: string }> {
  const roles = processRoles()
  const before = snapshotCpu()
  const result = await work()
  const after = snapshotCpu()
  const msEach = [...roles].map(([role, pid]): [string, number] => [
    role,
    (cpuSecondsBetween(before, after, [pid]) * 1000) / result.signatures,
  ])
  const total = msEach.reduce((sum, [, ms]) => sum + ms, 0)
  const parts = msEach.map(([role, ms]) => `${role} ${fmt(ms)}`).join(', ')
  const ceiling = (cpus().length * 1000) / total
  return {
    ...result,
    cpu: `CPU per signature: ${fmt(total)} ms (${parts}); ${cpus().length} cores alone: at most ${ceiling.toFixed(1)} sig/s`,
  }
}

/** `SEQUENTIAL` transactions one after the other, each split by its link jobs. */
async function sequentialRun(
  system: System,
): Promise<{ signatures: number; splits: Split[]; failures: string[] }> {
  const splits: Split[] = []
  const failures: string[] = []
  for (let i = 0; i < SEQUENTIAL; i += 1) {
    const { txId, submittedAt } = await submitRaw(system.fireblocks, ONE)
    const tx = await finished(system.fireblocks, txId, submittedAt)
    if (tx.status === 'COMPLETED') splits.push(await splitOf(system, txId, tx))
    else failures.push(`${txId} ${tx.status}`)
  }
  return { signatures: splits.length, splits, failures }
}

async function measureLatency(system: System, print: Print): Promise<void> {
  for (let i = 0; i < WARMUP; i += 1) {
    const { txId, submittedAt } = await submitRaw(system.fireblocks, ONE)
    await finished(system.fireblocks, txId, submittedAt)
  }
  const cosigner = system.cosigners[0] as Cosigner
  const metricsBefore = await scrape(cosigner)
  const { splits, failures, cpu } = await perSignatureCpu(() => sequentialRun(system))
  const metricsAfter = await scrape(cosigner)
  const median = (pick: (split: Split) => number) => fmt(percentile(splits.map(pick), 0.5))
  const p99 = fmt(
    percentile(
      splits.map((split) => split.totalMs),
      0.99,
    ),
  )
  print(
    `e2e RAW ECDSA latency: p50 ${median((s) => s.totalMs)} ms, p99 ${p99} ms (n=${splits.length}, sequential, ` +
      `after ${WARMUP} warm-up); callback ${median((s) => s.callbackMs)} ms, MPC ${median((s) => s.mpcMs)} ms, ` +
      `hub ${median((s) => s.hubMs)} ms (medians)`,
  )
  print(
    `    hub's part (medians): before the approve job ${median((s) => s.beforeMs)} ms (REST, policy, queue, ` +
      `dispatch), approve → sign job ${median((s) => s.betweenMs)} ms (cloud authorization), ` +
      `sign job → COMPLETED ${median((s) => s.afterMs)} ms`,
  )
  print(
    `    inside the co-signer (${cosigner.name}'s /metrics, means): callback handler call ` +
      `${fmt(meanBetween(metricsBefore, metricsAfter, CALLBACK_SERIES))} ms, its MPC session ` +
      `${fmt(meanBetween(metricsBefore, metricsAfter, MPC_SERIES))} ms`,
  )
  print(`    sequential: ${cpu}`)
  if (failures.length > 0) print(`    not COMPLETED: ${failures.join(', ')}`)
}

interface Batch {
  readonly signatures: number
  readonly rate: number
  readonly signers: string
}

/** Submits `BATCH` transactions at once; signatures per second from the first POST to the last COMPLETED. */
async function batchRun(system: System, note: string): Promise<Batch> {
  const submitted = await Promise.all(Array.from({ length: BATCH }, () => submitRaw(system.fireblocks, note)))
  const done = await Promise.all(
    submitted.map(({ txId, submittedAt }) => finished(system.fireblocks, txId, submittedAt)),
  )
  const completed = done.filter((tx) => tx.status === 'COMPLETED')
  const start = Math.min(...done.map((tx) => tx.submittedAt))
  const end = Math.max(...completed.map((tx) => tx.completedAt))
  const names = new Map(system.cosigners.map((cosigner) => [cosigner.user.id, cosigner.name]))
  const bySigner = new Map<string, number>()
  for (const id of completed.flatMap((tx) => tx.signedBy)) {
    const name = names.get(id) ?? id
    bySigner.set(name, (bySigner.get(name) ?? 0) + 1)
  }
  const notCompleted = done.length - completed.length
  const signers = [...bySigner].map(([name, count]) => `${name} ${count}`).join(', ')
  return {
    signatures: completed.length,
    rate: completed.length / ((end - start) / 1000),
    signers: `${signers}${notCompleted > 0 ? `, ${notCompleted} not COMPLETED` : ''}`,
  }
}

async function measureThroughput(system: System, print: Print): Promise<void> {
  const one = await perSignatureCpu(() => batchRun(system, ONE))
  const two = await perSignatureCpu(() => batchRun(system, GROUP))
  print(
    `e2e throughput (${BATCH} RAW ECDSA submitted at once): 1 co-signer ${one.rate.toFixed(1)} sig/s; ` +
      `2 co-signers ${two.rate.toFixed(1)} sig/s (ratio ${(two.rate / one.rate).toFixed(2)}; ` +
      `signed by ${one.signers} | ${two.signers})`,
  )
  print(`    1 co-signer: ${one.cpu}`)
  print(`    2 co-signers: ${two.cpu}`)
}

/**
 * An SDK error holds its whole HTTP exchange; what explains a failure is the request, the status and the
 * hub's answer.
 */
function failureOf(error: unknown): Error {
  const { message, response, config } = error as {
    message?: string
    response?: { statusCode?: number; status?: number; data?: unknown }
    config?: { method?: string; url?: string }
  }
  if (response === undefined) return error as Error
  const status = response.statusCode ?? response.status
  return new Error(
    `e2e: ${config?.method?.toUpperCase() ?? ''} ${config?.url ?? ''} answered ${status}: ` +
      `${JSON.stringify(response.data)} (${message})`,
  )
}

async function stopProcess(child: CliProcess): Promise<void> {
  if (child.child.exitCode !== null) return
  child.child.kill('SIGTERM')
  await child.exited
}

export async function benchEndToEnd(print: Print): Promise<void> {
  const loads = () =>
    loadavg()
      .map((load) => load.toFixed(2))
      .join(' ')
  print(
    `e2e: hub, 2 cloud co-signers, 2 co-signers and a callback handler as processes (load average ${loads()})`,
  )
  const workspace = await startWorkspace()
  let handler: CliProcess | undefined
  try {
    const cosigners = await startCosigners(workspace)
    handler = await startCallbackHandler(workspace, cosigners)
    const system: System = {
      workspace,
      fireblocks: workspace.sdk(workspace.owner),
      cosigners,
      jobs: new HubLinkStore(workspace.hub.hub.db, systemClock),
    }
    await prepareWorkspace(system)
    await measureLatency(system, print)
    await measureThroughput(system, print)
    print(`    load average after: ${loads()}`)
  } catch (error) {
    throw failureOf(error)
  } finally {
    if (handler !== undefined) await stopProcess(handler)
    await workspace.close()
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' })
  await benchEndToEnd((line) => void process.stdout.write(`${line}\n`))
}
