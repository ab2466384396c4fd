/**
 * Issues 7 and 18: the handler against the physical limit. Every answer carries one RSA-2048 signature, so
 * the CPU openssl spends on one signature bounds the CPU a decision can cost. Measured here over loopback,
 * on the real path (RS256 verify, validation, policy with a velocity window, durable record with its audit
 * entry, RS256 sign), with a load generator in its own process and requests signed beforehand. The figure
 * that matters is CPU per decision (user + system, every thread and worker of the handler, read from /proc
 * over the measured window): unlike decisions per second, it hardly moves with the load of a shared
 * machine. Beside it, the floor server (handler/floor-server.ts: HTTP, verification and signing, nothing
 * else) shows what any Node.js handler must spend. Prints figures and targets; never fails on a target.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { callbackPath, importRsaPublicKey, verifyCallbackResponse } from '../src/protocol/index.js'
import {
  cpuSecondsBetween,
  processTree,
  snapshotCpu,
  snapshotThreads,
  threadSecondsBetween,
  type CpuSnapshot,
} from './handler/cpu.js'
import type { GeneratorCommand, GeneratorMessage, PhaseResult } from './handler/load-generator.js'
import { opensslRsa2048 } from './handler/openssl.js'
import {
  benchFolder,
  removeBenchFolders,
  startFloorProcess,
  startHandlerProcess,
  TSX,
  type BenchFolder,
  type ServerProcess,
} from './handler/setup.js'
import { freshPostgresSchema } from '../test/support/databases.js'

const OPENSSL_SECONDS = 5
const WARMUP_MS = 1_500
const MEASURE_MS = 5_000
/** Enough concurrent requests for group commit to batch and for every core to stay busy. */
const CONNECTIONS = 32
const TARGETS = { efficiency: 0.75, p99Ms: 10, cpuGrowthWithWorkers: 1.1 } as const
const PG_URL = process.env.COUNTERSIGN_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
/** `COUNTERSIGN_BENCH_CPU_PROF=DIR` writes a V8 CPU profile of every handler process into DIR. */
const PROFILE_DIR = process.env.COUNTERSIGN_BENCH_CPU_PROF
/**
 * `COUNTERSIGN_BENCH_QUICK=1` measures the single SQLite process only (warm-up, window, CPU per decision):
 * the loop for working on the hot path, a minute shorter than the whole run.
 */
const QUICK = process.env.COUNTERSIGN_BENCH_QUICK === '1'
/** PostgreSQL's own processes that work for every client (WAL flushes, checkpoints), counted with its backends. */
const PG_SERVER_PROCESSES = ['walwriter', 'checkpointer', 'background writer']

type Print = (line: string) => void
type WindowEdge = Extract<GeneratorMessage, { type: 'window' }>['edge']

class Generator {
  private readonly child: ChildProcess
  private pending: ((message: GeneratorMessage) => void) | undefined
  private onWindow: ((edge: WindowEdge) => void) | undefined

  constructor() {
    this.child = fork(join(import.meta.dirname, 'handler', 'load-generator.ts'), [], {
      execArgv: ['--import', TSX],
    })
    this.child.on('message', (message: GeneratorMessage) => {
      if (message.type === 'window') this.onWindow?.(message.edge)
      else this.pending?.(message)
    })
  }

  run(command: Extract<GeneratorCommand, { type: 'sign' | 'rewind' }>): Promise<GeneratorMessage>
  run(
    command: Extract<GeneratorCommand, { type: 'closed' | 'open' }>,
    onWindow: (edge: WindowEdge) => void,
  ): Promise<PhaseResult>
  run(command: GeneratorCommand, onWindow?: (edge: WindowEdge) => void): Promise<GeneratorMessage> {
    this.onWindow = onWindow
    return new Promise((resolve, reject) => {
      this.pending = (message) =>
        message.type === 'error' ? reject(new Error(`load generator: ${message.message}`)) : resolve(message)
      this.child.send(command)
    })
  }

  close(): void {
    this.child.kill()
  }
}

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN
}

/** Verifies the sampled answers with the handler's public key, as a co-signer would. */
async function verifySample(result: PhaseResult, folder: BenchFolder): Promise<string> {
  const key = importRsaPublicKey(folder.handlerPublicPem)
  let good = 0
  for (const { requestId, token } of result.sample) {
    const claims = await verifyCallbackResponse(token, key).catch(() => undefined)
    if (claims?.action === 'APPROVE' && claims.requestId === requestId) good += 1
  }
  return `sample ${good}/${result.sample.length} verified APPROVE`
}

function rateOf(result: PhaseResult): number {
  return result.answered / result.seconds
}

function describeRun(result: PhaseResult, sample: string): string {
  const failures =
    result.failures === 0
      ? '0 non-200/non-APPROVE'
      : `${result.failures} non-200/non-APPROVE (e.g. ${result.failureExamples.join('; ')})`
  return `${result.answered} answers in ${result.seconds.toFixed(1)} s, ${failures}, ${sample}${result.exhausted ? ', RAN OUT of signed requests' : ''}`
}

const fmt = (value: number, digits = 0) => value.toFixed(digits)
const ms = (seconds: number) => `${(seconds * 1000).toFixed(3)} ms`
const verdict = (met: boolean) => (met ? 'met' : 'MISSED')
const loads = () =>
  loadavg()
    .map((load) => load.toFixed(2))
    .join(' ')

/** Starts a server process with these extra Node.js options. */
type Launch = (nodeArgs: readonly string[]) => Promise<ServerProcess>

/** Starts a server (with a CPU profile when asked), runs `work` against it, stops it. */
async function withServer<T>(
  launch: Launch,
  print: Print,
  work: (server: ServerProcess) => Promise<T>,
): Promise<T> {
  const profile = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : []
  const server = await launch(profile)
  try {
    return await work(server)
  } finally {
    const note = await server.stop()
    if (note) print(`    note: ${note}`)
  }
}

type Load =
  | Omit<Extract<GeneratorCommand, { type: 'closed' }>, 'origin' | 'path'>
  | Omit<Extract<GeneratorCommand, { type: 'open' }>, 'origin' | 'path'>

/** The PostgreSQL processes working for the benchmark: its backends (by application_name) and the writers. */
async function postgresPids(url: string, applicationName: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE application_name = $1 OR backend_type = ANY($2)',
      [applicationName, PG_SERVER_PROCESSES],
    )
    return rows.map((row) => row.pid)
  } finally {
    await client.end()
  }
}

interface Measured {
  readonly result: PhaseResult
  readonly check: string
  /** CPU seconds of the handler's processes (primary and workers, every thread) over the window. */
  readonly handlerCpu: number
  /** CPU seconds of the PostgreSQL server's processes over the window, when the store is PostgreSQL. */
  readonly postgresCpu?: number
  /** The handler's CPU seconds per thread name (main thread, libuv pool, V8 helpers), largest first. */
  readonly threads: [string, number][]
}

/** One phase on its own server (a handler has a fresh store), replaying the signed requests from the first. */
async function measure(
  generator: Generator,
  folder: BenchFolder,
  launch: Launch,
  load: Load,
  print: Print,
  postgres?: { url: string; applicationName: string },
): Promise<Measured> {
  await generator.run({ type: 'rewind' })
  const snapshots: Partial<Record<WindowEdge, CpuSnapshot>> = {}
  const threads: Partial<Record<WindowEdge, Map<string, number>>> = {}
  const { result, pid, pgPids } = await withServer(launch, print, async ({ origin, pid }) => {
    const command = { ...load, origin, path: callbackPath('', 'jwt', 'tx') } as GeneratorCommand & Load
    const phase = await generator.run(command, (edge) => {
      snapshots[edge] = snapshotCpu()
      threads[edge] = snapshotThreads(processTree(snapshots[edge], pid))
    })
    // Asked while the handler still runs, so its connections are listed; pids alone, the CPU is in the snapshots.
    const pgPids = postgres ? await postgresPids(postgres.url, postgres.applicationName) : undefined
    return { result: phase, pid, pgPids }
  })
  const { start, end } = snapshots
  if (!start || !end || !threads.start || !threads.end)
    throw new Error('the load generator did not mark its measured window')
  return {
    result,
    check: describeRun(result, await verifySample(result, folder)),
    handlerCpu: cpuSecondsBetween(start, end, processTree(end, pid)),
    threads: threadSecondsBetween(threads.start, threads.end),
    ...(pgPids ? { postgresCpu: cpuSecondsBetween(start, end, pgPids) } : {}),
  }
}

/** Starts `countersign handler start` on `folder` with `workers` processes. */
function handlerOf(folder: BenchFolder, workers: number): Launch {
  return (nodeArgs: readonly string[]) => startHandlerProcess(folder, workers, nodeArgs)
}

const maxLoad = {
  type: 'closed',
  connections: CONNECTIONS,
  warmupMs: WARMUP_MS,
  measureMs: MEASURE_MS,
} as const

/** CPU per answer, how many cores that kept busy over the window, and which threads spent it. */
function describeCpu(measured: Measured, answer = 'decision'): string {
  const { result, handlerCpu, threads } = measured
  const perThread = threads
    .slice(0, 4)
    .map(([name, seconds]) => `${name} ${ms(seconds / result.answered)}`)
    .join(', ')
  return `CPU ${ms(handlerCpu / result.answered)} per ${answer} (user + system, every thread: ${perThread}), ${fmt(handlerCpu / result.seconds, 2)} cores busy`
}

export async function benchHandlerThroughput(print: Print): Promise<void> {
  print('')
  print('handler against the physical limit (loopback, load generator in its own process)')
  print(`  machine: ${cpus().length} cores, load average before the run ${loads()}`)
  const openssl = await opensslRsa2048(OPENSSL_SECONDS)
  print(
    `  openssl speed rsa2048, one core            ${fmt(openssl.signPerSecond)} sign/s, CPU ${ms(openssl.cpuSecondsPerSign)} per signature (every answer needs one)`,
  )

  const generator = new Generator()
  try {
    const first = benchFolder('sqlite:decisions.db')
    // Enough for the fastest run's warm-up and window at 1.3x the openssl rate; fewer only shortens the window.
    const count = Math.ceil((openssl.signPerSecond * 1.3 * (WARMUP_MS + MEASURE_MS)) / 1000)
    const signed = await generator.run({ type: 'sign', cosignerKeyFile: first.cosignerKeyFile, count })
    if (signed.type === 'signed')
      print(
        `  ${signed.count} distinct requests, signed before any clock started (${fmt(signed.ms / 1000, 1)} s)`,
      )

    const single = await measure(generator, first, handlerOf(first, 1), maxLoad, print)
    const singleRate = rateOf(single.result)
    print(
      `  handler, 1 process, SQLite (WAL, FULL)     ${fmt(singleRate)} decisions/s, closed loop, ${CONNECTIONS} connections`,
    )
    print(`    ${describeCpu(single)}`)
    print(`    ${single.check}`)

    const cpuPerDecision = single.handlerCpu / single.result.answered
    const floor = await measure(
      generator,
      first,
      (nodeArgs) => startFloorProcess(first, nodeArgs),
      maxLoad,
      print,
    )
    const floorCpu = floor.handlerCpu / floor.result.answered
    print(
      `  floor: node:http, RS256 verify and sign only ${fmt(rateOf(floor.result))} requests/s, closed loop, ${CONNECTIONS} connections`,
    )
    print(`    ${describeCpu(floor, 'request')}`)
    print(`    ${floor.check}`)
    print(
      `    the best a Node.js handler can reach here: efficiency floor/openssl ${fmt(openssl.cpuSecondsPerSign / floorCpu, 2)}; the handler spends ${ms(cpuPerDecision - floorCpu)} per decision above it`,
    )

    if (!QUICK) await halfLoadAndPostgres(generator, singleRate, print)

    const efficiency = openssl.cpuSecondsPerSign / cpuPerDecision
    print(`  load average after the run ${loads()}`)
    print(
      `  throughput handler/openssl (wall clock, moves with the machine's load): ${fmt(singleRate / openssl.signPerSecond, 2)}`,
    )
    print(
      `  CPU per decision ${ms(cpuPerDecision)} against ${ms(openssl.cpuSecondsPerSign)} per openssl signature; target efficiency >= ${TARGETS.efficiency}: ${verdict(efficiency >= TARGETS.efficiency)}`,
    )
    print(`efficiency handler/openssl: ${fmt(efficiency, 2)}`)
  } finally {
    generator.close()
    removeBenchFolders()
  }
}

/** Latency at half the measured maximum (open loop), then the PostgreSQL runs. */
async function halfLoadAndPostgres(generator: Generator, singleRate: number, print: Print): Promise<void> {
  const halfRate = singleRate / 2
  const halfFolder = benchFolder('sqlite:decisions.db')
  const half = await measure(
    generator,
    halfFolder,
    handlerOf(halfFolder, 1),
    {
      type: 'open',
      connections: CONNECTIONS * 2,
      rate: halfRate,
      warmupMs: WARMUP_MS,
      measureMs: MEASURE_MS,
    },
    print,
  )
  const latencies = [...half.result.latenciesMs].sort((a, b) => a - b)
  const p99 = percentile(latencies, 0.99)
  print(
    `  same at half load, open loop at ${fmt(halfRate)}/s   p50 ${fmt(percentile(latencies, 0.5), 2)} ms, p99 ${fmt(p99, 2)} ms, max ${fmt(latencies.at(-1) ?? Number.NaN, 2)} ms (target p99 < ${TARGETS.p99Ms} ms: ${verdict(p99 < TARGETS.p99Ms)})`,
  )
  print(`    ${describeCpu(half)}`)
  print(`    ${half.check}`)

  await onPostgres(generator, print)
}

/**
 * PostgreSQL with one worker, then one worker per core (node:cluster): CPU per decision must not grow with
 * the workers, and the server's own CPU per decision is printed beside it. Each run has a fresh schema.
 */
async function onPostgres(generator: Generator, print: Print): Promise<void> {
  const perDecision: number[] = []
  for (const workers of [1, cpus().length]) {
    const label = `  handler, ${workers} worker${workers === 1 ? ', ' : 's,'} PostgreSQL        `
    try {
      const measured = await onFreshSchema(generator, workers, print)
      const { result, handlerCpu, postgresCpu = Number.NaN } = measured
      perDecision.push(handlerCpu / result.answered)
      print(`${label}${fmt(rateOf(result))} decisions/s, closed loop, ${CONNECTIONS} connections`)
      print(
        `    ${describeCpu(measured)}; PostgreSQL server CPU ${ms(postgresCpu / result.answered)} per decision`,
      )
      print(`    ${measured.check}`)
    } catch (error) {
      print(`${label}not measured: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
  const [one, many] = perDecision
  if (one !== undefined && many !== undefined)
    print(
      `  CPU per decision, ${cpus().length} workers / 1 worker: ${fmt(many / one, 2)} (target <= ${TARGETS.cpuGrowthWithWorkers}: ${verdict(many / one <= TARGETS.cpuGrowthWithWorkers)})`,
    )
}

async function onFreshSchema(generator: Generator, workers: number, print: Print): Promise<Measured> {
  const schema = await freshPostgresSchema(PG_URL, 'cs_bench')
  try {
    const url = new URL(schema.url)
    const applicationName = `countersign-bench-${process.pid}`
    url.searchParams.set('application_name', applicationName)
    const folder = benchFolder(url.toString())
    return await measure(generator, folder, handlerOf(folder, workers), maxLoad, print, {
      url: PG_URL,
      applicationName,
    })
  } finally {
    await schema.drop()
  }
}
