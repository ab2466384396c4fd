import type { KeyObject } from 'node:crypto'
import { systemClock, type Clock } from '../core/index.js'
import {
  MpcError,
  MpcSession,
  SessionChannel,
  type Envelope,
  type PartyKeys,
  type PresignatureStore,
  type RoundParty,
} from '../mpc/index.js'
import {
  MAX_LONG_POLL_SECONDS,
  type ApproveBody,
  type ConfigBody,
  type KeygenBody,
  type LinkMessage,
  type MpcBody,
  type ResultRequest,
  type SignBody,
} from '../protocol/index.js'
import { algorithmSuites, type AlgorithmSuite, type Engines } from './algorithms.js'
import { backoffDelay, DEFAULT_BACKOFF, type Backoff } from './backoff.js'
import { LinkError } from './errors.js'
import type { KeyShareStore } from './key-share-store.js'
import { RecentIds, verifyLinkMessage } from './messages.js'
import { RunningJob } from './running-job.js'
import type { LinkTransport, WireEnvelope } from './transport.js'

export type JobDecision = { readonly approve: true } | { readonly approve: false; readonly reason: string }
/**
 * Whether this party joins a signing job: the cloud co-signer's checks the hub's authorization, the
 * customer co-signer's asks its callback handler. It runs before any MPC state exists.
 */
export type JobGate = (job: SignBody) => Promise<JobDecision>

/**
 * The cloud co-signer's fence on signing attempts: once the hub has handed a transaction to a later attempt
 * (its lease ran out), a job of an earlier one takes no further MPC step; and every signature this party
 * completes is recorded, so that its log shows each message signed once.
 */
export interface AttemptFence {
  /** Why `job`'s attempt may no longer take a step; undefined while it may. */
  superseded(job: SignBody): string | undefined
  signed(job: SignBody, signature: unknown): Promise<void>
}

/** A customer co-signer's answer to an `approve` job (its callback handler's decision, or why there is none). */
export type ApprovalAnswer =
  { readonly outcome: 'done' } | { readonly outcome: 'declined' | 'failed'; readonly reason: string }
/**
 * Decides an `approve` job. Aborted when the hub cancels the job or the runner stops; a stopped approval is
 * the approver's to resume (its RETRY series is persisted), the runner posts nothing for it.
 */
export type Approver = (job: ApproveBody, signal: AbortSignal) => Promise<ApprovalAnswer>

/** The answer to a `config` job: approved with the configuration-change key's signature (hex), or not. */
export type ConfigAnswer =
  | { readonly outcome: 'done'; readonly signature: string }
  | { readonly outcome: 'declined' | 'failed'; readonly reason: string }
export type ConfigApprover = (job: ConfigBody, signal: AbortSignal) => Promise<ConfigAnswer>

/** The abort reason of a job the hub cancelled (as opposed to a runner that stops and resumes later). */
export class JobCancelled extends Error {
  override readonly name = 'JobCancelled'
}

/** The subset of a pino logger the runner writes to: job steps, dropped messages, link trouble. */
export interface LinkLogger {
  info(fields: object, message: string): void
  warn(fields: object, message: string): void
  error(fields: object, message: string): void
}

export interface PartyRunnerOptions {
  /** This party's name and X25519 envelope key. */
  readonly party: PartyKeys
  /** The hub's Ed25519 service key: every mailbox message must verify under it. */
  readonly hubKey: KeyObject
  readonly transport: LinkTransport
  readonly keyShares: KeyShareStore
  /** Durable: a pre-signature is used once, even across a crash. */
  readonly presignatures: PresignatureStore
  readonly gate: JobGate
  readonly fence?: AttemptFence
  /** Answers `approve` jobs (a customer co-signer's callback handler); without one, every approval fails. */
  readonly approver?: Approver
  /** Answers `config` jobs (configuration changes); without one, every such approval fails. */
  readonly configApprover?: ConfigApprover
  readonly engines: Engines
  readonly clock?: Clock
  readonly log?: LinkLogger
  /** A session with no inbound message for this long is abandoned and reported failed. */
  readonly sessionIdleMs?: number
  readonly pollWaitSeconds?: number
  readonly backoff?: Backoff
  /** Told when each job ends (metrics): its kind, outcome and how long it ran. */
  readonly onJobEnded?: (kind: LinkMessage['kind'], outcome: ResultRequest['outcome'], ms: number) => void
  /** Told after each mailbox poll whether the hub answered (metrics, readiness). */
  readonly onLinkState?: (up: boolean) => void
}

const DEFAULT_SESSION_IDLE_MS = 60_000
const REMEMBERED_IDS = 10_000
/** MPC messages kept for sessions whose job has not started (the gate is asking, the job is in flight). */
const EARLY_SESSIONS = 64
const EARLY_MESSAGES_PER_SESSION = 64
const SEND_ATTEMPTS = 4
const RESULT_ATTEMPTS = 8
const MAX_ENVELOPES_PER_CALL = 16

const silent: LinkLogger = { info: () => undefined, warn: () => undefined, error: () => undefined }

/**
 * One signing party on the link: long-polls its mailbox, verifies and dedupes each message, and runs its
 * jobs (key generation, signing) as MPC sessions whose envelopes the hub relays; posts each job's result.
 */
export class PartyRunner {
  private readonly options: PartyRunnerOptions
  private readonly self: string
  private readonly clock: Clock
  private readonly log: LinkLogger
  private readonly idleMs: number
  private readonly suites: ReturnType<typeof algorithmSuites>
  private readonly seenMessages = new RecentIds(REMEMBERED_IDS)
  private readonly seenJobs = new RecentIds(REMEMBERED_IDS)
  private readonly usedSessions = new RecentIds(REMEMBERED_IDS)
  private readonly jobsBySession = new Map<string, RunningJob>()
  private readonly jobsById = new Map<string, RunningJob>()
  private readonly approvals = new Map<string, AbortController>()
  private readonly early = new Map<string, MpcBody[]>()
  private readonly inFlight = new Set<Promise<void>>()
  private readonly stopping = new AbortController()
  private cursor = '0'
  private loop: Promise<void> | undefined

  constructor(options: PartyRunnerOptions) {
    this.options = options
    this.self = options.party.name
    this.clock = options.clock ?? systemClock
    this.log = options.log ?? silent
    this.idleMs = options.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS
    this.suites = algorithmSuites(options.engines)
  }

  /**
   * Polls until `stop`; resolves then. Rejects when the hub refuses the party's token: retrying cannot
   * help, the co-signer must be paired again. Other link failures are retried with backoff and jitter.
   */
  run(): Promise<void> {
    this.loop ??= this.pollLoop()
    return this.loop
  }

  async stop(): Promise<void> {
    this.stopping.abort(new Error('the party runner stopped'))
    for (const job of this.jobsById.values()) job.abandon(new Error('the party runner stopped'))
    await this.loop?.catch(() => undefined)
    await this.settled()
  }

  /** Resolves once every job started so far has ended and posted its result. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight])
  }

  /** Handles one mailbox message: verified, deduped, then acted on. Jobs run in the background. */
  async receive(compact: string): Promise<void> {
    const check = await verifyLinkMessage(compact, this.options.hubKey, this.self)
    if (!check.ok) {
      this.log.warn({ reason: check.reason }, 'dropped a mailbox message')
      return
    }
    const message = check.message
    if (!this.seenMessages.firstTime(message.id)) return
    this.dispatch(message)
  }

  private dispatch(message: LinkMessage): void {
    switch (message.kind) {
      case 'keygen':
        this.startJob('keygen', message.body, (job) => this.keygen(job, message.body))
        return
      case 'sign':
        this.startJob('sign', message.body, (job) => this.sign(job, message.body))
        return
      case 'approve':
        this.approve(message.body)
        return
      case 'config':
        this.configure(message.body)
        return
      case 'mpc':
        this.route(message.body)
        return
      case 'cancel': {
        this.seenJobs.firstTime(message.body.job) // a job cancelled before it arrived never starts
        const cancelled = new JobCancelled(`cancelled: ${message.body.reason}`)
        this.jobsById.get(message.body.job)?.abandon(cancelled)
        this.approvals.get(message.body.job)?.abort(cancelled)
        this.log.info({ job: message.body.job, reason: message.body.reason }, 'job cancelled by the hub')
        return
      }
    }
  }

  private async pollLoop(): Promise<void> {
    const signal = this.stopping.signal
    const wait = Math.min(this.options.pollWaitSeconds ?? MAX_LONG_POLL_SECONDS, MAX_LONG_POLL_SECONDS)
    let failures = 0
    while (!signal.aborted) {
      try {
        const mailbox = await this.options.transport.poll(this.cursor, wait, signal)
        this.options.onLinkState?.(true)
        failures = 0
        for (const { message } of mailbox.messages) await this.receive(message)
        if (mailbox.cursor !== this.cursor) {
          this.cursor = mailbox.cursor
          await this.options.transport.ack(this.cursor)
        }
      } catch (error) {
        if (signal.aborted) return
        if (error instanceof LinkError && error.code === 'CS_LINK_TOKEN_REFUSED') {
          this.log.error({ err: error }, 'the hub refused this party: pair it again')
          throw error
        }
        this.options.onLinkState?.(false)
        const delay = backoffDelay(failures++, this.options.backoff ?? DEFAULT_BACKOFF)
        this.log.warn({ err: error, retryInMs: delay }, 'the mailbox poll failed')
        await this.clock.sleep(delay, signal).catch(() => undefined)
      }
    }
  }

  private startJob(
    kind: 'keygen' | 'sign',
    body: KeygenBody | SignBody,
    work: (job: RunningJob) => Promise<ResultRequest>,
  ): void {
    if (!this.seenJobs.firstTime(body.job)) return
    if (this.jobsBySession.has(body.session) || !this.usedSessions.firstTime(body.session)) {
      this.log.warn({ job: body.job, session: body.session }, 'refused a job on a session already used')
      return
    }
    const job = new RunningJob(body.job, body.session)
    this.jobsBySession.set(job.session, job)
    this.jobsById.set(job.id, job)
    const execution = this.execute(kind, job, work).finally(() => this.inFlight.delete(execution))
    this.inFlight.add(execution)
  }

  private async execute(
    kind: 'keygen' | 'sign',
    job: RunningJob,
    work: (job: RunningJob) => Promise<ResultRequest>,
  ): Promise<void> {
    const started = this.clock.now()
    let result: ResultRequest
    try {
      result = await work(job)
    } catch (error) {
      result = { job: job.id, outcome: 'failed', reason: reasonOf(error) }
    } finally {
      job.fail(new Error('ended'))
      this.jobsBySession.delete(job.session)
      this.jobsById.delete(job.id)
      this.early.delete(job.session)
    }
    if (job.cancelled) return
    this.options.onJobEnded?.(kind, result.outcome, this.clock.now() - started)
    await this.report(result)
  }

  /**
   * Runs an `approve` job in the background, once per job id: from the mailbox, or resumed by the approver's
   * owner after a restart (the mailbox delivered it before the crash).
   */
  approve(body: ApproveBody): void {
    const approver = this.options.approver
    this.decide('approve', body.job, (signal) =>
      approver === undefined
        ? Promise.resolve({ outcome: 'failed', reason: `${this.self} approves no request` })
        : approver(body, signal),
    )
  }

  /** Runs a `config` job in the background, once per job id (as `approve`). */
  configure(body: ConfigBody): void {
    const approver = this.options.configApprover
    this.decide('config', body.job, (signal) =>
      approver === undefined
        ? Promise.resolve({ outcome: 'failed', reason: `${this.self} approves no configuration change` })
        : approver(body, signal),
    )
  }

  /** A job without an MPC session: the decision is posted, unless the hub cancelled it or the runner stops. */
  private decide(
    kind: 'approve' | 'config',
    job: string,
    decision: (signal: AbortSignal) => Promise<ApprovalAnswer | ConfigAnswer>,
  ): void {
    if (!this.seenJobs.firstTime(job)) return
    const cancelled = new AbortController()
    this.approvals.set(job, cancelled)
    const execution = this.answer(kind, job, decision, cancelled.signal).finally(() => {
      this.approvals.delete(job)
      this.inFlight.delete(execution)
    })
    this.inFlight.add(execution)
  }

  private async answer(
    kind: 'approve' | 'config',
    job: string,
    decision: (signal: AbortSignal) => Promise<ApprovalAnswer | ConfigAnswer>,
    cancelled: AbortSignal,
  ): Promise<void> {
    const signal = AbortSignal.any([cancelled, this.stopping.signal])
    const started = this.clock.now()
    let answer: ApprovalAnswer | ConfigAnswer
    try {
      answer = await decision(signal)
    } catch (error) {
      if (signal.aborted) return
      answer = { outcome: 'failed', reason: reasonOf(error) }
    }
    this.options.onJobEnded?.(kind, answer.outcome, this.clock.now() - started)
    await this.report({ job, ...answer })
  }

  private async report(result: ResultRequest): Promise<void> {
    this.log.info({ job: result.job, outcome: result.outcome, reason: result.reason }, 'job ended')
    await this.withRetries(RESULT_ATTEMPTS, () => this.options.transport.postResult(result)).catch(
      (error: unknown) => this.log.error({ err: error, job: result.job }, 'could not post the job result'),
    )
  }

  private async keygen(job: RunningJob, body: KeygenBody): Promise<ResultRequest> {
    const suite = this.suites[body.algorithm]
    const reshare = await this.reshareOptions(body)
    const share = await this.runSession(
      job,
      suite.keygen({
        self: this.self,
        session: bytesOfHex(body.session),
        holders: body.holders,
        ...(reshare === undefined ? {} : { reshare }),
      }),
      body.peers,
    )
    if (share === undefined) return { job: job.id, outcome: 'done' } // a dealer that holds nothing of the new set
    await this.options.keyShares.put(share)
    return { job: job.id, outcome: 'done', ...suite.describe(share) }
  }

  /** A reshare's dealers are an existing set: this party deals its share of that set when it is one of them. */
  private async reshareOptions(body: KeygenBody) {
    if (body.reshare === undefined) return undefined
    const { dealers, expectedPublicKey } = body.reshare
    const customers = dealers.filter((d) => d !== 'cloud1' && d !== 'cloud2')
    const customer = customers[0]
    if (customers.length !== 1 || customer === undefined)
      throw new MpcError('CS_MPC_TOPOLOGY', `the dealers [${dealers.join(', ')}] are not one existing set`)
    const share = dealers.includes(this.self)
      ? await this.options.keyShares.get(body.algorithm, customer)
      : undefined
    if (dealers.includes(this.self) && share === undefined)
      throw new MpcError(
        'CS_MPC_BAD_INPUT',
        `${this.self} deals but holds no share of the set of ${customer}`,
      )
    return {
      dealers,
      ...(share === undefined ? {} : { share }),
      ...(expectedPublicKey === undefined ? {} : { expectedPublicKey }),
    }
  }

  private async sign(job: RunningJob, body: SignBody): Promise<ResultRequest> {
    const decision = await this.options.gate(body)
    if (!decision.approve) return { job: job.id, outcome: 'declined', reason: decision.reason }
    if (job.cancelled) throw new Error('cancelled while the gate decided')
    const fence = this.options.fence
    if (fence !== undefined) job.fence = () => fence.superseded(body)
    const customer = body.holders[2]
    const share = await this.options.keyShares.get(body.algorithm, customer)
    if (share === undefined)
      throw new MpcError(
        'CS_MPC_BAD_INPUT',
        `${this.self} holds no ${body.algorithm} share of the set of ${customer}`,
      )
    const suite: AlgorithmSuite = this.suites[body.algorithm]
    const party = await suite.signing(
      share,
      body.path,
      bytesOfHex(body.session),
      bytesOfHex(body.content),
      this.options.presignatures,
    )
    const signature = await this.runSession(job, party, body.peers)
    await fence?.signed(body, signature)
    return { job: job.id, outcome: 'done', signature }
  }

  /** Runs `party` over the job's session: sends its envelopes, feeds it what arrives, until it ends. */
  private async runSession<R>(
    job: RunningJob,
    party: RoundParty<R>,
    peers: Record<string, string>,
  ): Promise<R> {
    const pins = new Map(Object.entries(peers).map(([name, key]) => [name, bytesOfBase64Url(key)]))
    const mpc = new MpcSession(party, new SessionChannel(this.options.party, bytesOfHex(job.session), pins))
    const outcome = job.attach(mpc, this.clock, this.idleMs)
    try {
      await this.sendAll(await mpc.start())
      for (const body of this.early.get(job.session) ?? []) await this.deliver(job, body)
      this.early.delete(job.session)
      if (mpc.finished) job.succeed(mpc.result)
    } catch (error) {
      job.fail(error)
    }
    return outcome
  }

  /** An `mpc` message: to its running session, or kept (bounded) until its job starts. */
  private route(body: MpcBody): void {
    const job = this.jobsBySession.get(body.session)
    if (job?.running !== undefined) {
      const delivery = this.deliver(job, body).finally(() => this.inFlight.delete(delivery))
      this.inFlight.add(delivery)
      return
    }
    if (job === undefined && this.usedSessions.has(body.session)) return
    this.keepEarly(body)
  }

  private keepEarly(body: MpcBody): void {
    const kept = this.early.get(body.session) ?? []
    if (kept.length >= EARLY_MESSAGES_PER_SESSION) return
    if (kept.length === 0) {
      if (this.early.size >= EARLY_SESSIONS) this.early.delete(this.early.keys().next().value as string)
      this.early.set(body.session, kept)
    }
    kept.push(body)
  }

  private async deliver(job: RunningJob, body: MpcBody): Promise<void> {
    const mpc = job.running
    if (mpc === undefined) return
    if (this.fenced(job)) return
    const envelope: Envelope = {
      session: bytesOfHex(body.session),
      from: body.from,
      to: this.self,
      round: body.round,
      body: bytesOfBase64Url(body.body),
    }
    try {
      const replies = await mpc.deliver(envelope)
      job.touch(this.clock, this.idleMs)
      if (this.fenced(job)) return
      await this.sendAll(replies)
    } catch (error) {
      // A refused envelope (forged, replayed, garbled by the relay) is noise: the session goes on, or
      // idles out naming who is missing. Anything else ended the session.
      if (error instanceof MpcError && error.code === 'CS_MPC_BAD_MESSAGE') {
        job.lastRefusal = error.message
        this.log.warn({ job: job.id, from: body.from, reason: error.message }, 'dropped an MPC message')
        return
      }
      job.fail(error)
      return
    }
    if (mpc.finished) job.succeed(mpc.result)
  }

  /** True (and the job failed) when a later attempt superseded the job's: it takes no further step. */
  private fenced(job: RunningJob): boolean {
    const superseded = job.fence()
    if (superseded === undefined) return false
    this.log.warn({ job: job.id, reason: superseded }, 'stopped a superseded signing attempt')
    job.fail(new Error(superseded))
    return true
  }

  private async sendAll(envelopes: readonly Envelope[]): Promise<void> {
    const wire: WireEnvelope[] = envelopes.map((e) => ({
      session: Buffer.from(e.session).toString('hex'),
      to: e.to,
      round: e.round,
      body: Buffer.from(e.body).toString('base64url'),
    }))
    for (let at = 0; at < wire.length; at += MAX_ENVELOPES_PER_CALL) {
      const batch = wire.slice(at, at + MAX_ENVELOPES_PER_CALL)
      await this.withRetries(SEND_ATTEMPTS, () => this.options.transport.send(batch))
    }
  }

  /** Retries a transient link failure with backoff; a refused token or a stop ends the attempts. */
  private async withRetries(attempts: number, call: () => Promise<void>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call()
      } catch (error) {
        const final =
          attempt + 1 >= attempts ||
          this.stopping.signal.aborted ||
          !(error instanceof LinkError) ||
          error.code === 'CS_LINK_TOKEN_REFUSED'
        if (final) throw error
        await this.clock.sleep(
          backoffDelay(attempt, this.options.backoff ?? DEFAULT_BACKOFF),
          this.stopping.signal,
        )
      }
    }
  }
}

const bytesOfHex = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, 'hex'))
const bytesOfBase64Url = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'base64url'))

/** The reason posted with a failed job: the error's own words, bounded as the wire allows. */
function reasonOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error)
  return text.slice(0, 500)
}
