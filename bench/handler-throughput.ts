/**
 * Issue 7, item 4: the handler against the physical limit. Every answer carries one RSA-2048 signature, so
 * the openssl signing rate on one core bounds what one process can decide per second. Measured here over
 * loopback, on the real path (RS256 verify, validation, policy with a velocity window, durable record with
 * its audit entry, RS256 sign), with a load generator in its own process and requests signed beforehand.
 * Prints figures and targets; never fails on a target.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { callbackPath, importRsaPublicKey, verifyCallbackResponse } from '../src/protocol/index.js'
import type { GeneratorCommand, GeneratorMessage, PhaseResult } from './handler/load-generator.js'
import { opensslRsa2048SignRate } from './handler/openssl.js'
import {
  benchFolder,
  removeBenchFolders,
  startHandlerProcess,
  TSX,
  type BenchFolder,
  type HandlerProcess,
} from './handler/setup.js'
import { freshPostgresSchema } from '../test/support/databases.js'

const OPENSSL_SECONDS = 5
const WARMUP_MS = 1_500
const MEASURE_MS = 5_000
/** Enough concurrent requests for group commit to batch and for every core to stay busy. */
const CONNECTIONS = 32
const TARGETS = { handlerToOpenssl: 0.6, p99Ms: 10, multiToSingle: 1.7 } as const
const PG_URL = process.env.COUNTERSIGN_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
/** `COUNTERSIGN_BENCH_CPU_PROF=DIR` writes a V8 CPU profile of every handler process into DIR. */
const PROFILE_DIR = process.env.COUNTERSIGN_BENCH_CPU_PROF

type Print = (line: string) => void

class Generator {
  private readonly child: ChildProcess

  constructor() {
    this.child = fork(join(import.meta.dirname, 'handler', 'load-generator.ts'), [], {
      execArgv: ['--import', TSX],
    })
  }

  run(command: Extract<GeneratorCommand, { type: 'sign' | 'rewind' }>): Promise<GeneratorMessage>
  run(command: Extract<GeneratorCommand, { type: 'closed' | 'open' }>): Promise<PhaseResult>
  run(command: GeneratorCommand): Promise<GeneratorMessage> {
    return new Promise((resolve, reject) => {
      this.child.once('message', (message: GeneratorMessage) =>
        message.type === 'error' ? reject(new Error(`load generator: ${message.message}`)) : resolve(message),
      )
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
const verdict = (met: boolean) => (met ? 'met' : 'MISSED')

async function withHandler<T>(
  folder: BenchFolder,
  workers: number,
  print: Print,
  work: (handler: HandlerProcess) => Promise<T>,
): Promise<T> {
  const profile = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : []
  const handler = await startHandlerProcess(folder, workers, profile)
  try {
    return await work(handler)
  } finally {
    const note = await handler.stop()
    if (note) print(`    note: ${note}`)
  }
}

type Load =
  | Omit<Extract<GeneratorCommand, { type: 'closed' }>, 'origin' | 'path'>
  | Omit<Extract<GeneratorCommand, { type: 'open' }>, 'origin' | 'path'>

/** One phase on its own handler and fresh store, replaying the signed requests from the first. */
async function measure(generator: Generator, folder: BenchFolder, workers: number, load: Load, print: Print) {
  await generator.run({ type: 'rewind' })
  const result = await withHandler(folder, workers, print, ({ origin }) =>
    generator.run({ ...load, origin, path: callbackPath('', 'jwt', 'tx') } as GeneratorCommand & Load),
  )
  return { result, check: describeRun(result, await verifySample(result, folder)) }
}

const maxLoad = {
  type: 'closed',
  connections: CONNECTIONS,
  warmupMs: WARMUP_MS,
  measureMs: MEASURE_MS,
} as const

export async function benchHandlerThroughput(print: Print): Promise<void> {
  print('')
  print('handler throughput against the physical limit (loopback, load generator in its own process)')
  print(`  machine: ${cpus().length} cores, load average before the run ${loadavg()[0]!.toFixed(2)}`)
  const openssl = await opensslRsa2048SignRate(OPENSSL_SECONDS)
  print(
    `  openssl speed rsa2048, one core            ${fmt(openssl)} sign/s (every answer needs one signature)`,
  )

  const generator = new Generator()
  try {
    const sqlite = () => benchFolder('sqlite:decisions.db')
    const first = sqlite()
    // Enough for the fastest run's warm-up and window at 1.3x the openssl rate; fewer only shortens the window.
    const count = Math.ceil((openssl * 1.3 * (WARMUP_MS + MEASURE_MS)) / 1000)
    const signed = await generator.run({ type: 'sign', cosignerKeyFile: first.cosignerKeyFile, count })
    if (signed.type === 'signed')
      print(
        `  ${signed.count} distinct requests, signed before any clock started (${fmt(signed.ms / 1000, 1)} s)`,
      )

    const single = await measure(generator, first, 1, maxLoad, print)
    const singleRate = rateOf(single.result)
    print(
      `  handler, 1 process, SQLite (WAL, FULL)     ${fmt(singleRate)} decisions/s, closed loop, ${CONNECTIONS} connections`,
    )
    print(`    ${single.check}`)

    const halfRate = singleRate / 2
    const half = await measure(
      generator,
      sqlite(),
      1,
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
      `  same at half load, open loop at ${fmt(halfRate)}/s   p50 ${fmt(percentile(latencies, 0.5), 2)} ms, p99 ${fmt(p99, 2)} ms (target p99 < ${TARGETS.p99Ms} ms: ${verdict(p99 < TARGETS.p99Ms)})`,
    )
    print(`    ${half.check}`)

    const multiRate = await multiWorker(generator, print).then(
      ({ result, check }) => {
        print(
          `  handler, ${cpus().length} workers, PostgreSQL           ${fmt(rateOf(result))} decisions/s, closed loop, ${CONNECTIONS} connections`,
        )
        print(`    ${check}`)
        return rateOf(result)
      },
      (error: unknown) => {
        print(
          `  handler, ${cpus().length} workers, PostgreSQL           not measured: ${error instanceof Error ? error.message : String(error)}`,
        )
        return undefined
      },
    )
    if (multiRate !== undefined) {
      const ratio = multiRate / singleRate
      print(
        `  ratio multi-worker/single-process: ${fmt(ratio, 2)} (target >= ${TARGETS.multiToSingle}: ${verdict(ratio >= TARGETS.multiToSingle)})`,
      )
    }
    const ratio = singleRate / openssl
    print(
      `  load average after the run ${loadavg()[0]!.toFixed(2)}; target handler/openssl >= ${TARGETS.handlerToOpenssl}: ${verdict(ratio >= TARGETS.handlerToOpenssl)}`,
    )
    print(`ratio handler/openssl: ${fmt(ratio, 2)}`)
  } finally {
    generator.close()
    removeBenchFolders()
  }
}

/** One worker per core (node:cluster) on PostgreSQL, in a schema of its own that is dropped afterwards. */
async function multiWorker(generator: Generator, print: Print) {
  const schema = await freshPostgresSchema(PG_URL, 'cs_bench')
  try {
    return await measure(generator, benchFolder(schema.url), cpus().length, maxLoad, print)
  } finally {
    await schema.drop()
  }
}
