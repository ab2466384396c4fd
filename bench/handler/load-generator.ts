/**
 * The load generator, run as its own process (forked by ../handler-throughput.ts) so that it never shares
 * an event loop with the handler. It signs its requests before any clock starts, then drives the handler
 * over loopback either closed-loop (as fast as it answers) or open-loop (a fixed arrival rate).
 */
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { Pool } from 'undici'
import { loadTxFixture } from '../../src/testing/index.js'
import { importRsaPrivateKey, signCallbackRequest } from '../../src/protocol/index.js'

export type GeneratorCommand =
  | { readonly type: 'sign'; readonly cosignerKeyFile: string; readonly count: number }
  /** Starts over at the first request: the next handler has a fresh store. */
  | { readonly type: 'rewind' }
  | {
      readonly type: 'closed'
      readonly origin: string
      readonly path: string
      readonly connections: number
      readonly warmupMs: number
      readonly measureMs: number
    }
  | {
      readonly type: 'open'
      readonly origin: string
      readonly path: string
      readonly connections: number
      readonly rate: number
      readonly warmupMs: number
      readonly measureMs: number
    }

export interface PhaseResult {
  readonly type: 'result'
  /** Answers received inside the measured window. */
  readonly answered: number
  readonly seconds: number
  /** Answers other than 200 with an APPROVE claim (whole phase, warm-up included). */
  readonly failures: number
  readonly failureExamples: readonly string[]
  readonly latenciesMs: readonly number[]
  /** A few raw answers, for the parent to verify with the handler's public key. */
  readonly sample: readonly { readonly requestId: string; readonly token: string }[]
  /** True when the signed requests ran out before the window closed. */
  readonly exhausted: boolean
}

export type GeneratorMessage =
  | { readonly type: 'signed'; readonly count: number; readonly ms: number }
  /** Sent as the measured window opens and closes, so the parent reads CPU times at those moments. */
  | { readonly type: 'window'; readonly edge: 'start' | 'end' }
  | PhaseResult
  | { readonly type: 'error'; readonly message: string }

const SAMPLE_SIZE = 100
/** A request stuck in the handler fails (and is counted) instead of stalling the benchmark. */
const TIMEOUTS = { headersTimeout: 30_000, bodyTimeout: 30_000 } as const

interface SignedRequest {
  readonly requestId: string
  readonly body: string
}

let requests: SignedRequest[] = []
let cursor = 0

async function signAll(cosignerKeyFile: string, count: number): Promise<void> {
  const key = importRsaPrivateKey(readFileSync(cosignerKeyFile, 'utf8'))
  const template = loadTxFixture('eth-transfer-signing')
  const signOne = async (): Promise<SignedRequest> => {
    const requestId = randomUUID()
    return { requestId, body: await signCallbackRequest({ ...template, requestId, txId: requestId }, key) }
  }
  requests = []
  // In slices: a few signatures in flight keep every core busy without queueing thousands of promises.
  while (requests.length < count)
    requests.push(
      ...(await Promise.all(Array.from({ length: Math.min(64, count - requests.length) }, signOne))),
    )
  cursor = 0
}

/** The `action` claim of an answer, read without verifying (the parent verifies a sample). */
function actionOf(token: string): unknown {
  const payload = token.split('.')[1]
  if (payload === undefined) return undefined
  try {
    return (JSON.parse(Buffer.from(payload, 'base64url').toString()) as { action?: unknown }).action
  } catch {
    return undefined
  }
}

class Phase {
  answered = 0
  failures = 0
  readonly failureExamples: string[] = []
  readonly pool: Pool
  readonly path: string
  readonly windowStart: number
  readonly windowEnd: number
  /** Open loop: a request counts when it was due inside the window; closed loop: when it was answered. */
  readonly countByDue: boolean
  readonly latenciesMs: number[] = []
  readonly sample: { requestId: string; token: string }[] = []
  exhausted = false
  lastAnsweredAt = 0

  constructor(pool: Pool, path: string, windowStart: number, windowEnd: number, countByDue: boolean) {
    this.pool = pool
    this.path = path
    this.windowStart = windowStart
    this.windowEnd = windowEnd
    this.countByDue = countByDue
  }

  next(): SignedRequest | undefined {
    const request = requests[cursor]
    if (request === undefined) this.exhausted = true
    else cursor += 1
    return request
  }

  /** Sends one request; `startedAt` is when it was due to leave (open loop) or left (closed loop). */
  async send(request: SignedRequest, startedAt: number): Promise<void> {
    let status = 0
    let text: string
    try {
      const response = await this.pool.request({
        method: 'POST',
        path: this.path,
        body: request.body,
        headers: { 'content-type': 'text/plain' },
      })
      status = response.statusCode
      text = await response.body.text()
    } catch (error) {
      text = error instanceof Error ? error.message : String(error)
    }
    const finishedAt = performance.now()
    const action = status === 200 ? actionOf(text) : undefined
    if (action !== 'APPROVE') {
      this.failures += 1
      if (this.failureExamples.length < 5)
        this.failureExamples.push(`HTTP ${status} ${JSON.stringify(action ?? text.slice(0, 80))}`)
    }
    const at = this.countByDue ? startedAt : finishedAt
    if (at < this.windowStart || at > this.windowEnd) return
    this.answered += 1
    this.lastAnsweredAt = finishedAt
    this.latenciesMs.push(finishedAt - startedAt)
    if (this.sample.length < SAMPLE_SIZE && this.answered % 7 === 0)
      this.sample.push({ requestId: request.requestId, token: text })
  }

  result(): PhaseResult {
    return {
      type: 'result',
      answered: this.answered,
      seconds: (this.windowEnd - this.windowStart) / 1000,
      failures: this.failures,
      failureExamples: this.failureExamples,
      latenciesMs: this.latenciesMs,
      sample: this.sample,
      exhausted: this.exhausted,
    }
  }
}

/** Tells the parent when the measured window opens and closes. */
function markWindow(windowStart: number, windowEnd: number): void {
  const mark = (edge: 'start' | 'end', at: number) =>
    setTimeout(
      () => process.send!({ type: 'window', edge } satisfies GeneratorMessage),
      at - performance.now(),
    )
  mark('start', windowStart)
  mark('end', windowEnd)
}

/** Each connection sends its next request as soon as the previous one is answered. */
async function closedLoop(command: Extract<GeneratorCommand, { type: 'closed' }>): Promise<PhaseResult> {
  const pool = new Pool(command.origin, { connections: command.connections, pipelining: 1, ...TIMEOUTS })
  const start = performance.now()
  const windowStart = start + command.warmupMs
  const phase = new Phase(pool, command.path, windowStart, windowStart + command.measureMs, false)
  markWindow(phase.windowStart, phase.windowEnd)
  const connection = async () => {
    for (let request = phase.next(); request; request = phase.next()) {
      await phase.send(request, performance.now())
      if (performance.now() >= phase.windowEnd) return
    }
  }
  await Promise.all(Array.from({ length: command.connections }, connection))
  await pool.close()
  // Out of signed requests before the window closed: the window ends with the last answer.
  const seconds = phase.exhausted ? (phase.lastAnsweredAt - windowStart) / 1000 : command.measureMs / 1000
  return { ...phase.result(), seconds }
}

/**
 * Requests leave on a fixed schedule whatever the answers do, and each latency counts from the moment its
 * request was due, so a stalled handler shows up in the tail instead of silently slowing the generator.
 */
async function openLoop(command: Extract<GeneratorCommand, { type: 'open' }>): Promise<PhaseResult> {
  const pool = new Pool(command.origin, { connections: command.connections, pipelining: 1, ...TIMEOUTS })
  const start = performance.now()
  const windowStart = start + command.warmupMs
  // Every request due inside the window counts, however late its answer comes.
  const phase = new Phase(pool, command.path, windowStart, windowStart + command.measureMs, true)
  markWindow(phase.windowStart, phase.windowEnd)
  const total = Math.floor((command.rate * (command.warmupMs + command.measureMs)) / 1000)
  const inFlight: Promise<void>[] = []
  let sent = 0
  while (sent < total) {
    const now = performance.now()
    for (; sent < total && start + (sent * 1000) / command.rate <= now; sent += 1) {
      const request = phase.next()
      if (!request) break
      inFlight.push(phase.send(request, start + (sent * 1000) / command.rate))
    }
    if (phase.exhausted) break
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
  await Promise.all(inFlight)
  await pool.close()
  return { ...phase.result(), seconds: command.measureMs / 1000 }
}

async function run(command: GeneratorCommand): Promise<GeneratorMessage> {
  switch (command.type) {
    case 'sign': {
      const started = performance.now()
      await signAll(command.cosignerKeyFile, command.count)
      return { type: 'signed', count: requests.length, ms: performance.now() - started }
    }
    case 'rewind':
      cursor = 0
      return { type: 'signed', count: requests.length, ms: 0 }
    case 'closed':
      return closedLoop(command)
    case 'open':
      return openLoop(command)
  }
}

process.on('message', (command: GeneratorCommand) => {
  run(command).then(
    (message) => process.send!(message),
    (error: unknown) =>
      process.send!({ type: 'error', message: error instanceof Error ? error.message : String(error) }),
  )
})
