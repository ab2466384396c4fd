import { createPublicKey, randomBytes, randomUUID, type KeyObject } from 'node:crypto'
import { CompactSign, SignJWT, errors as joseErrors, exportJWK, jwtVerify, type JWTPayload } from 'jose'
import { z } from 'zod'
import { formatZodIssues, sha256Hex, type Clock } from '../../core/index.js'
import {
  ACCESS_TOKEN_SECONDS,
  EnvelopesRequestSchema,
  KeygenBodySchema,
  LINK_MESSAGE_TYPE,
  LINK_PATH_PREFIX,
  LINK_STREAM_PATH,
  MAX_LONG_POLL_SECONDS,
  NO_CALLBACK_HANDLER,
  PAIRING_TOKEN_SECONDS,
  PairRequestSchema,
  ResultRequestSchema,
  SignBodySchema,
  TokenRequestSchema,
  ApproveBodySchema,
  ConfigBodySchema,
  type ApproveBody,
  type ConfigBody,
  type EnvelopesRequest,
  type LinkMessage,
  type MailboxResponse,
  type PairRequest,
  type PairResponse,
  type ResultRequest,
  type SignBody,
  type SigningAlgorithm,
} from '../../protocol/index.js'
import type { ServicePlugin } from '../../service/index.js'
import type {
  HubLinkStore,
  LinkJob,
  LinkParty,
  NewLinkJob,
  OutgoingMessage,
  PartyKind,
} from '../../storage/index.js'
import { HubApiError } from '../rest/api-error.js'
import { serveStream, type StreamClient, type StreamLog } from './stream.js'

/**
 * The hub's side of the co-signer ↔ hub link (docs/cosigner-protocol.md): pairing, refresh and access
 * tokens, each party's mailbox pulled by long-poll, the relay of MPC envelopes between the participants of
 * one job (its holders, and a reshare's dealers), and the jobs' results. `LinkHub` is what the rest of the hub calls; `linkRoutes` serves it under
 * `/cosigner/v1/`.
 */

/** The `code` of a link answer that is not a success (`{ message, code }`, as on the hub's `/v1`). */
export const LINK_CODES = {
  invalidRequest: 1500,
  pairingTokenInvalid: 1501,
  pairingTokenExpired: 1502,
  pairingTokenUsed: 1503,
  refreshTokenRevoked: 1504,
  refreshTokenUnknown: 1505,
  accessTokenInvalid: 1506,
  unknownSession: 1507,
  notAHolder: 1508,
  unknownJob: 1509,
  resultRejected: 1510,
  jobClosed: 1511,
  partyNotEnrolled: 1512,
  noCallbackHandler: NO_CALLBACK_HANDLER,
} as const

export const CLOUD_PARTIES = ['cloud1', 'cloud2'] as const
export type CloudParty = (typeof CLOUD_PARTIES)[number]
/** `cloud1`, `cloud2`, then the customer co-signer's party (its API user's id). */
export type Holders = readonly [CloudParty, CloudParty, string]

interface JobSpecCommon {
  /** Chosen by the hub when left out. */
  readonly id?: string
  readonly algorithm: SigningAlgorithm
  readonly holders: Holders
  /** 32 bytes, lowercase hex: the MPC session the job runs. */
  readonly session: string
}
/**
 * A reshare: the existing set `dealers` deals the same key to the job's holders. The dealers get the job too
 * (a dealer that holds nothing of the new set reports `done` without a key); every holder must report the
 * expected public key and chain code (the workspace's), or the job fails.
 */
export interface ReshareSpec {
  readonly dealers: Holders
  /** Hex; the receivers check it themselves too. */
  readonly expectedPublicKey: string
  /** Hex; the engines copy the dealers' chain code, the hub checks it is the workspace's. */
  readonly expectedChainCode: string
}
export interface KeygenJobSpec extends JobSpecCommon {
  readonly kind: 'keygen'
  readonly reshare?: ReshareSpec
}
export interface SignJobSpec extends JobSpecCommon {
  readonly kind: 'sign'
  readonly txId: string
  readonly attempt: number
  readonly path: SignBody['path']
  readonly content: string
  /** The compact JWS the cloud co-signers check before joining (`AUTHORIZATION_TYPE`). */
  readonly authorization: string
}
/**
 * A job for one customer co-signer, no MPC session: approve a signing attempt (`approve`), or approve a
 * configuration change with the API user's configuration-change key (`config`). Both ask its callback handler.
 */
export type PartyJobSpec =
  | {
      readonly id: string
      readonly kind: 'approve'
      readonly holder: string
      readonly body: Omit<ApproveBody, 'job'>
    }
  | {
      readonly id: string
      readonly kind: 'config'
      readonly holder: string
      readonly body: Omit<ConfigBody, 'job'>
    }
export type JobSpec = KeygenJobSpec | SignJobSpec

/** A holder's report on a job, as recorded: its request, and who sent it. */
export type LinkResult = ResultRequest & { readonly from: string }

/** Decides whether a `done` result is genuine (a signature that verifies, a public key that matches). */
export type ResultVerifier = (job: LinkJob, result: LinkResult) => boolean | Promise<boolean>

export interface LinkHubOptions {
  readonly store: HubLinkStore
  /** The hub's Ed25519 service key (private). */
  readonly serviceKey: KeyObject
  readonly clock: Clock
  /** Only `done` results it accepts are recorded; without it every `done` is. */
  readonly verifyResult?: ResultVerifier
  /** How often a waiting poll re-reads the database, for messages posted by another replica. */
  readonly recheckMs?: number
}

const MAILBOX_BATCH = 100
const DEFAULT_RECHECK_MS = 1_000
const X25519_KEY_BYTES = 32

const refused = (status: number, code: number, message: string) => new HubApiError(status, code, message)

/** In-process wake-ups, keyed by mailbox or job; armed before a read, so a wake-up during it is not lost. */
class Wakeups {
  readonly #waiters = new Map<string, Set<() => void>>()

  arm(key: string): { readonly woken: Promise<void>; disarm(): void } {
    let wake!: () => void
    const woken = new Promise<void>((resolve) => (wake = resolve))
    const waiters = this.#waiters.get(key) ?? new Set()
    waiters.add(wake)
    this.#waiters.set(key, waiters)
    return {
      woken,
      disarm: () => {
        waiters.delete(wake)
        if (waiters.size === 0 && this.#waiters.get(key) === waiters) this.#waiters.delete(key)
      },
    }
  }

  wake(key: string): void {
    for (const wake of this.#waiters.get(key) ?? []) wake()
  }

  wakeAll(): void {
    for (const key of this.#waiters.keys()) this.wake(key)
  }
}

const mailboxKey = (party: string) => `mailbox:${party}`
const jobKey = (id: string) => `job:${id}`

function isX25519PublicKey(encoded: string): boolean {
  return Buffer.from(encoded, 'base64url').length === X25519_KEY_BYTES
}

/** A valid Ed25519 point, not only 32 bytes: node:crypto refuses anything else. */
function isEd25519PublicKey(encoded: string): boolean {
  try {
    createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: encoded }, format: 'jwk' })
    return Buffer.from(encoded, 'base64url').length === X25519_KEY_BYTES
  } catch {
    return false
  }
}

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value)
  if (parsed.success) return parsed.data
  throw refused(
    400,
    LINK_CODES.invalidRequest,
    `invalid request: ${formatZodIssues(parsed.error).join('; ')}`,
  )
}

export class LinkHub {
  readonly #store: HubLinkStore
  readonly #serviceKey: KeyObject
  readonly #publicKey: KeyObject
  readonly #clock: Clock
  readonly #verifyResult: ResultVerifier | undefined
  readonly #recheckMs: number
  readonly #wakeups = new Wakeups()
  #closed = false

  constructor(options: LinkHubOptions) {
    this.#store = options.store
    this.#serviceKey = options.serviceKey
    this.#publicKey = createPublicKey(options.serviceKey)
    this.#clock = options.clock
    this.#verifyResult = options.verifyResult
    this.#recheckMs = options.recheckMs ?? DEFAULT_RECHECK_MS
  }

  /** The service public key as the parties pin it. */
  async hubKey(): Promise<PairResponse['hubKey']> {
    const { x } = await exportJWK(this.#publicKey)
    return { kty: 'OKP', crv: 'Ed25519', x: x! }
  }

  // ---- tokens -------------------------------------------------------------------------------------

  /** A single-use pairing token for the co-signer of `apiUserId`, valid for one hour. */
  async issuePairingToken(apiUserId: string, options: { cosignerName?: string } = {}): Promise<string> {
    if ((CLOUD_PARTIES as readonly string[]).includes(apiUserId))
      throw new Error(`${apiUserId} is a cloud co-signer's name, not an API user's id`)
    const claims = { typ: 'pairing', userId: apiUserId, ...options }
    return this.#signJwt(claims, apiUserId, PAIRING_TOKEN_SECONDS, randomUUID())
  }

  /** Enrols a cloud co-signer (`hub init`); returns its refresh token, revoking any earlier one. */
  async registerCloud(name: CloudParty, partyKey: string): Promise<string> {
    if (!isX25519PublicKey(partyKey)) throw new Error('partyKey is not a base64url X25519 public key')
    const refreshToken = newRefreshToken()
    await this.#store.enrol(enrolment(name, 'cloud', partyKey, `${name} co-signer`, refreshToken))
    return refreshToken
  }

  /** `POST /cosigner/v1/pair`. */
  async pair(request: PairRequest): Promise<PairResponse> {
    const claims = await this.#verifyToken(request.pairingToken, 'pairing')
    const apiUserId = claims.sub
    const jti = claims.jti
    if (apiUserId === undefined || jti === undefined || claims['userId'] !== apiUserId)
      throw refused(401, LINK_CODES.pairingTokenInvalid, 'pairing token lacks its userId, sub or jti')
    if (!isX25519PublicKey(request.partyKey))
      throw refused(400, LINK_CODES.invalidRequest, 'partyKey is not a 32-byte X25519 public key (base64url)')
    if (request.configKey !== undefined && !isEd25519PublicKey(request.configKey))
      throw refused(
        400,
        LINK_CODES.invalidRequest,
        'configKey is not a 32-byte Ed25519 public key (base64url)',
      )
    const displayName = request.name ?? stringClaim(claims, 'cosignerName')
    const refreshToken = newRefreshToken()
    const enrolled = {
      ...enrolment(apiUserId, 'customer', request.partyKey, displayName, refreshToken),
      configKey: request.configKey ?? null,
    }
    if (!(await this.#store.pair(jti, enrolled)))
      throw refused(401, LINK_CODES.pairingTokenUsed, 'pairing token already used: issue a new one')
    return {
      party: apiUserId,
      cosignerId: enrolled.cosignerId,
      refreshToken,
      hubKey: await this.hubKey(),
      peers: await this.#cloudPeers(),
    }
  }

  /** `POST /cosigner/v1/token`. */
  async token(refreshToken: string): Promise<{ accessToken: string; expiresIn: number }> {
    const found = await this.#store.refreshLookup(sha256Hex(refreshToken))
    if (found.status !== 'current')
      throw found.status === 'revoked'
        ? refused(401, LINK_CODES.refreshTokenRevoked, 'refresh token revoked: pair the co-signer again')
        : refused(401, LINK_CODES.refreshTokenUnknown, 'refresh token unknown to this hub')
    const accessToken = await this.#signJwt({ typ: 'access' }, found.party.name, ACCESS_TOKEN_SECONDS)
    return { accessToken, expiresIn: ACCESS_TOKEN_SECONDS }
  }

  /** The party an `Authorization: Bearer` header speaks for, while it is still enrolled as it was. */
  async authenticate(authorization: string | undefined): Promise<LinkParty> {
    const token = /^Bearer ([^\s]+)$/.exec(authorization ?? '')?.[1]
    if (token === undefined)
      throw refused(401, LINK_CODES.accessTokenInvalid, 'missing Authorization: Bearer <access token>')
    const claims = await this.#verifyToken(token, 'access')
    const party = claims.sub === undefined ? undefined : await this.#store.party(claims.sub)
    if (party === undefined || party.revokedAt !== null)
      throw refused(401, LINK_CODES.accessTokenInvalid, 'the party of this access token is revoked')
    // A token taken by a previous enrolment (a replaced co-signer) must not read the new one's mailbox.
    if ((claims.iat ?? 0) < Math.floor(party.enrolledAt / 1000))
      throw refused(401, LINK_CODES.accessTokenInvalid, 'access token predates the party enrolment')
    return party
  }

  // ---- mailbox ------------------------------------------------------------------------------------

  /**
   * `GET /cosigner/v1/messages`: the party's messages after `after`, waiting up to `waitSeconds`; a
   * heartbeat of the party's process `instance` (null when it does not say).
   */
  async poll(
    party: string,
    after: number,
    waitSeconds: number,
    signal: AbortSignal,
    instance: string | null = null,
  ): Promise<MailboxResponse> {
    await this.#store.touch(party, instance)
    const deadline = this.#clock.now() + waitSeconds * 1000
    const entries =
      (await this.#waitFor(mailboxKey(party), deadline, signal, async () => {
        const found = await this.#store.mailbox(party, after, MAILBOX_BATCH)
        return found.length > 0 ? found : undefined
      })) ?? []
    return {
      messages: entries.map((entry) => ({ cursor: String(entry.cursor), message: entry.message })),
      cursor: String(entries.at(-1)?.cursor ?? after),
    }
  }

  /**
   * The party's messages after `after`, batch by batch as they are posted, until `signal` aborts or the hub
   * closes: the long poll, followed (what a WebSocket pushes). Each read is a heartbeat, as a poll is.
   */
  async *follow(
    party: string,
    after: number,
    signal: AbortSignal,
    instance: string | null = null,
  ): AsyncGenerator<MailboxResponse['messages'], void, undefined> {
    let cursor = after
    while (!signal.aborted && !this.#closed) {
      const answer = await this.poll(party, cursor, MAX_LONG_POLL_SECONDS, signal, instance)
      if (answer.messages.length > 0) yield answer.messages
      cursor = Number(answer.cursor)
    }
  }

  async ack(party: string, cursor: number): Promise<void> {
    await this.#store.ack(party, cursor)
  }

  /** Records that the party's process `instance` is connected now (a WebSocket's pong), as a poll does. */
  async heartbeat(party: string, instance: string | null = null): Promise<void> {
    await this.#store.touch(party, instance)
  }

  /**
   * Records that the party said it stops (it closed its WebSocket with 1000): it is not available for
   * dispatch or as a reshare's dealer until it is heard from again, rather than for the availability window.
   */
  async leave(party: string): Promise<void> {
    await this.#store.leave(party)
  }

  /** `POST /cosigner/v1/envelopes`: each envelope re-addressed from `sender`, all relayed or none. */
  async relay(sender: string, request: EnvelopesRequest): Promise<number> {
    const messages: OutgoingMessage[] = []
    for (const envelope of request.envelopes) {
      const job = await this.#store.jobBySession(envelope.session)
      if (job === undefined)
        throw refused(404, LINK_CODES.unknownSession, `no job uses session ${envelope.session}`)
      if (!job.participants.includes(sender))
        throw refused(403, LINK_CODES.notAHolder, `${sender} takes no part in session ${envelope.session}`)
      if (!job.participants.includes(envelope.to) || envelope.to === sender)
        throw refused(
          403,
          LINK_CODES.notAHolder,
          `${envelope.to} is not another participant of session ${envelope.session}`,
        )
      if (job.state === 'failed' || job.state === 'declined')
        throw refused(409, LINK_CODES.jobClosed, `job ${job.id} was abandoned (${job.state})`)
      const body = { session: envelope.session, from: sender, round: envelope.round, body: envelope.body }
      messages.push(await this.#message(envelope.to, 'mpc', body))
    }
    await this.#post(messages)
    return messages.length
  }

  // ---- jobs ---------------------------------------------------------------------------------------

  /** Records a one-party job (`approve`, `config`) and posts its message to its holder. */
  async startPartyJob(spec: PartyJobSpec): Promise<LinkJob> {
    await this.#peersOf([spec.holder])
    const common = { id: spec.id, kind: spec.kind, holders: [spec.holder], sessions: [] }
    let message: OutgoingMessage
    let job: NewLinkJob
    if (spec.kind === 'approve') {
      const body = ApproveBodySchema.parse({ ...spec.body, job: spec.id })
      message = await this.#message(spec.holder, 'approve', body)
      job = { ...common, txId: body.txId, attempt: body.attempt, algorithm: body.algorithm }
    } else {
      const body = ConfigBodySchema.parse({ ...spec.body, job: spec.id })
      message = await this.#message(spec.holder, 'config', body)
      job = { ...common, txId: null, attempt: null, algorithm: 'EDDSA_ED25519' }
    }
    const created = await this.#store.createJob(job, [message])
    this.#wakeMailboxes([message])
    return created
  }

  /**
   * Records the job and posts its `keygen` or `sign` message to each participant: the holders, and a
   * reshare's dealers (`peers` names every participant's key, so dealers and holders open each other's
   * envelopes).
   */
  async startJob(spec: JobSpec): Promise<LinkJob> {
    const id = spec.id ?? randomUUID()
    const reshare = spec.kind === 'keygen' ? spec.reshare : undefined
    const participants = [...new Set([...spec.holders, ...(reshare?.dealers ?? [])])]
    const peers = await this.#peersOf(participants)
    const common = { job: id, algorithm: spec.algorithm, session: spec.session, holders: spec.holders, peers }
    const kind = spec.kind
    const body =
      kind === 'keygen'
        ? KeygenBodySchema.parse({
            ...common,
            ...(reshare === undefined
              ? {}
              : { reshare: { dealers: reshare.dealers, expectedPublicKey: reshare.expectedPublicKey } }),
          })
        : SignBodySchema.parse({
            ...common,
            txId: spec.txId,
            attempt: spec.attempt,
            path: spec.path,
            content: spec.content,
            authorization: spec.authorization,
          })
    const messages = await Promise.all(participants.map((to) => this.#message(to, kind, body)))
    const job = await this.#store.createJob(
      {
        id,
        kind,
        txId: kind === 'sign' ? spec.txId : null,
        attempt: kind === 'sign' ? spec.attempt : null,
        algorithm: spec.algorithm,
        holders: spec.holders,
        sessions: [spec.session],
        ...(reshare === undefined ? {} : { reshare }),
      },
      messages,
    )
    this.#wakeMailboxes(messages)
    return job
  }

  /** Abandons a pending job and tells its participants; false when it had already finished. */
  async cancelJob(jobId: string, reason: string): Promise<boolean> {
    const job = await this.#store.job(jobId)
    if (job === undefined) return false
    const messages = await Promise.all(
      job.participants.map((to) => this.#message(to, 'cancel', { job: jobId, reason })),
    )
    const cancelled = await this.#store.finishJob(jobId, 'failed', { reason, cancelled: true }, messages)
    if (cancelled) {
      this.#wakeMailboxes(messages)
      this.#wakeups.wake(jobKey(jobId))
    }
    return cancelled
  }

  /**
   * Abandons what is left of a signing attempt (its approval, its signature jobs) and tells their
   * participants, so that no party goes on with it and the relay refuses its envelopes.
   */
  async cancelAttempt(txId: string, attempt: number, reason: string): Promise<void> {
    const jobs = (await this.#store.jobsOfTransaction(txId)).filter(
      (job) => job.attempt === attempt && job.state === 'pending',
    )
    await Promise.all(jobs.map((job) => this.cancelJob(job.id, reason)))
  }

  /**
   * `POST /cosigner/v1/results`: the first outcome that passes `verifyResult` (for `done`) finishes a sign
   * job. A key generation is done only once every holder reported its share stored, with the same public key
   * and chain code (a reshare's: the expected ones) — so no signature is asked of a holder still writing its
   * share; a disagreement fails it. A reshare's dealer that holds nothing of the new set has no key to
   * report: its `done` is recorded, never verified nor counted; its `failed` fails the job.
   */
  async submitResult(
    sender: string,
    request: ResultRequest,
  ): Promise<{ state: LinkJob['state']; recorded: boolean }> {
    const job = await this.#store.job(request.job)
    if (job === undefined) throw refused(404, LINK_CODES.unknownJob, `no job ${request.job}`)
    if (!job.participants.includes(sender))
      throw refused(403, LINK_CODES.notAHolder, `${sender} takes no part in job ${job.id}`)
    if (job.state !== 'pending') return { state: job.state, recorded: false }
    const result: LinkResult = { ...request, from: sender }
    // A done result carries an artefact to check (a signature, a key) only from a holder.
    const verify = request.outcome === 'done' && job.holders.includes(sender) ? this.#verifyResult : undefined
    if (verify !== undefined && !(await verify(job, result)))
      throw refused(422, LINK_CODES.resultRejected, `the result for job ${job.id} does not verify`)
    const finish = await this.#finishing(job, result)
    if (finish === undefined) return { state: 'pending', recorded: true }
    const recorded = await this.#store.finishJob(job.id, finish.outcome, finish.result)
    if (recorded) this.#wakeups.wake(jobKey(job.id))
    return {
      state: recorded ? finish.outcome : ((await this.#store.job(job.id))?.state ?? job.state),
      recorded,
    }
  }

  /** How a result finishes its job; `undefined` while a key generation waits for other holders. */
  async #finishing(
    job: LinkJob,
    result: LinkResult,
  ): Promise<
    { outcome: LinkJob['state'] & ResultRequest['outcome']; result: Record<string, unknown> } | undefined
  > {
    if (job.kind !== 'keygen' || result.outcome !== 'done') return { outcome: result.outcome, result }
    const holder = job.holders.includes(result.from)
    const unexpected = holder ? unexpectedKey(job, result) : undefined
    if (unexpected !== undefined) return { outcome: 'failed', result: { reason: unexpected } }
    const reports = (await this.#store.reportJob(job.id, result.from, result)).filter((report) =>
      job.holders.includes(report['from'] as string),
    )
    if (!holder || reports.length < job.holders.length) return undefined
    const agree = reports.every(
      (report) => report['publicKey'] === result.publicKey && report['chainCode'] === result.chainCode,
    )
    return agree
      ? { outcome: 'done', result }
      : { outcome: 'failed', result: { reason: 'the holders report different public keys or chain codes' } }
  }

  jobResult(jobId: string): Promise<LinkJob | undefined> {
    return this.#store.job(jobId)
  }

  /** Resolves once the job is finished (here or on another replica); rejects when `signal` aborts. */
  async waitForJob(jobId: string, signal: AbortSignal): Promise<LinkJob> {
    const finished = await this.#waitFor(jobKey(jobId), Number.POSITIVE_INFINITY, signal, async () => {
      const job = await this.#store.job(jobId)
      if (job === undefined) throw refused(404, LINK_CODES.unknownJob, `no job ${jobId}`)
      return job.state === 'pending' ? undefined : job
    })
    signal.throwIfAborted()
    if (finished === undefined) throw new Error('the co-signer link is closing')
    return finished
  }

  // ---- parties ------------------------------------------------------------------------------------

  async partyKey(name: string): Promise<string | undefined> {
    return (await this.#store.party(name))?.partyKey
  }

  /** When the party was last heard of: its last poll, or its WebSocket's last pong (its heartbeat). */
  async lastSeen(name: string): Promise<Date | undefined> {
    const seen = (await this.#store.party(name))?.lastSeen
    return seen == null ? undefined : new Date(seen)
  }

  /** Revokes the party's refresh token; its access tokens stop working at once. */
  revokeParty(name: string): Promise<boolean> {
    return this.#store.revoke(name)
  }

  /** Ends every waiting poll now (the server is stopping). */
  close(): void {
    this.#closed = true
    this.#wakeups.wakeAll()
  }

  // ---- internals ----------------------------------------------------------------------------------

  async #signJwt(
    claims: JWTPayload,
    subject: string,
    lifetimeSeconds: number,
    jti?: string,
  ): Promise<string> {
    const iat = Math.floor(this.#clock.now() / 1000)
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
      .setSubject(subject)
      .setIssuedAt(iat)
      .setExpirationTime(iat + lifetimeSeconds)
    return (jti === undefined ? jwt : jwt.setJti(jti)).sign(this.#serviceKey)
  }

  /** Verifies a token the hub issued, of the one `typ` expected here (an access token never pairs). */
  async #verifyToken(token: string, typ: 'pairing' | 'access'): Promise<JWTPayload> {
    const code = typ === 'pairing' ? LINK_CODES.pairingTokenInvalid : LINK_CODES.accessTokenInvalid
    try {
      const { payload } = await jwtVerify(token, this.#publicKey, {
        algorithms: ['EdDSA'],
        currentDate: new Date(this.#clock.now()),
      })
      if (payload['typ'] !== typ) throw refused(401, code, `not a ${typ} token`)
      return payload
    } catch (error) {
      if (error instanceof HubApiError) throw error
      if (error instanceof joseErrors.JWTExpired)
        throw refused(401, typ === 'pairing' ? LINK_CODES.pairingTokenExpired : code, `${typ} token expired`)
      if (error instanceof joseErrors.JWSSignatureVerificationFailed)
        throw refused(401, code, `${typ} token not signed by this hub`)
      throw refused(401, code, `${typ} token invalid`)
    }
  }

  async #message(to: string, kind: LinkMessage['kind'], body: LinkMessage['body']): Promise<OutgoingMessage> {
    const payload = { id: randomUUID(), to, iat: Math.floor(this.#clock.now() / 1000), kind, body }
    const message = await new CompactSign(Buffer.from(JSON.stringify(payload)))
      .setProtectedHeader({ alg: 'EdDSA', typ: LINK_MESSAGE_TYPE })
      .sign(this.#serviceKey)
    return { to, message }
  }

  async #post(messages: readonly OutgoingMessage[]): Promise<void> {
    await this.#store.post(messages)
    this.#wakeMailboxes(messages)
  }

  #wakeMailboxes(messages: readonly OutgoingMessage[]): void {
    for (const to of new Set(messages.map((message) => message.to))) this.#wakeups.wake(mailboxKey(to))
  }

  async #cloudPeers(): Promise<Record<string, string>> {
    const peers: Record<string, string> = {}
    for (const name of CLOUD_PARTIES) {
      const key = await this.partyKey(name)
      if (key !== undefined) peers[name] = key
    }
    return peers
  }

  async #peersOf(holders: readonly string[]): Promise<Record<string, string>> {
    const peers: Record<string, string> = {}
    for (const holder of holders) {
      const party = await this.#store.party(holder)
      if (party === undefined || party.revokedAt !== null)
        throw refused(409, LINK_CODES.partyNotEnrolled, `${holder} is not an enrolled co-signer`)
      peers[holder] = party.partyKey
    }
    return peers
  }

  /**
   * Re-runs `probe` until it finds something, `deadline` passes, `signal` aborts or the hub closes. It
   * wakes at once on an in-process post, and every `recheckMs` for what another replica posted.
   */
  async #waitFor<T>(
    key: string,
    deadline: number,
    signal: AbortSignal,
    probe: () => Promise<T | undefined>,
  ): Promise<T | undefined> {
    for (;;) {
      const armed = this.#wakeups.arm(key)
      try {
        const found = await probe()
        const remaining = deadline - this.#clock.now()
        if (found !== undefined || remaining <= 0 || signal.aborted || this.#closed) return found
        await this.#pause(armed.woken, Math.min(this.#recheckMs, remaining), signal)
      } finally {
        armed.disarm()
      }
    }
  }

  async #pause(woken: Promise<void>, ms: number, signal: AbortSignal): Promise<void> {
    const stop = new AbortController()
    const sleeping = this.#clock.sleep(ms, AbortSignal.any([signal, stop.signal])).catch(() => undefined)
    await Promise.race([woken, sleeping])
    stop.abort()
  }
}

/** Why a holder's reported key cannot end a reshare (not the workspace's key or chain code), if it cannot. */
function unexpectedKey(job: LinkJob, result: LinkResult): string | undefined {
  const expected = job.reshare
  if (expected === null) return undefined
  const same = (reported: string | undefined, wanted: string) =>
    reported?.toLowerCase() === wanted.toLowerCase()
  if (!same(result.publicKey, expected.expectedPublicKey))
    return `${result.from} reports public key ${result.publicKey ?? '(none)'}, not the dealers' ${expected.expectedPublicKey}`
  if (!same(result.chainCode, expected.expectedChainCode))
    return `${result.from} reports chain code ${result.chainCode ?? '(none)'}, not the dealers' ${expected.expectedChainCode}`
  return undefined
}

function newRefreshToken(): string {
  return randomBytes(32).toString('base64url')
}

function enrolment(
  name: string,
  kind: PartyKind,
  partyKey: string,
  displayName: string | null,
  refreshToken: string,
) {
  return { name, kind, partyKey, cosignerId: randomUUID(), displayName, refreshHash: sha256Hex(refreshToken) }
}

function stringClaim(claims: JWTPayload, name: string): string | null {
  const value = claims[name]
  return typeof value === 'string' ? value : null
}

// ---- routes ---------------------------------------------------------------------------------------

const Cursor = z.union([z.string().regex(/^\d{1,15}$/), z.int().min(0).max(Number.MAX_SAFE_INTEGER)])
/** A party's process, as it names itself (docs/cosigner-protocol.md): a restart is a new one. */
const Instance = z
  .string()
  .regex(/^[A-Za-z0-9-]{1,64}$/, 'an instance is 1 to 64 letters, digits or dashes')
  .optional()
const PollQuerySchema = z.object({
  after: Cursor.default('0'),
  wait: z.coerce.number().int().min(0).max(MAX_LONG_POLL_SECONDS).default(0),
  instance: Instance,
})
const AckRequestSchema = z.strictObject({ cursor: Cursor })
const StreamQuerySchema = z.object({ after: Cursor.default('0'), instance: Instance })
/** How often each party is heard from by default (WebSocket pings, the longest long poll). */
export const LINK_HEARTBEAT_MS = 10_000

/** A co-signer's callback handler as `GET /cosigner/v1/callback` answers it (docs/cosigner-protocol.md). */
export interface CallbackHandlerAnswer {
  readonly url: string
  readonly publicKey?: string
  readonly cert?: string
  readonly certPublicKeyHash?: string
}

export interface LinkRoutesOptions {
  /** The callback handler set for a party through the co-signers API; without it, none is. */
  readonly callbackHandler?: (party: LinkParty) => Promise<CallbackHandlerAnswer | undefined>
  /**
   * How often each party is heard from: the hub pings its WebSocket this often (a party silent for two of
   * these is cut), and a long poll waits no longer.
   */
  readonly heartbeatMs?: number
  /** Where a WebSocket that fails on the hub's side (its store) is reported. */
  readonly log?: StreamLog
}

/**
 * The link's endpoints under `/cosigner/v1/`; answers that are not a success are `{ message, code }`. The
 * server must accept WebSockets (`createServiceServer`'s `webSockets`) for the pushed mailbox.
 */
export function linkRoutes(hub: LinkHub, options: LinkRoutesOptions = {}): ServicePlugin {
  const heartbeatMs = options.heartbeatMs ?? LINK_HEARTBEAT_MS
  return async (app) => {
    if (!app.hasDecorator('websocketServer'))
      throw new Error('the co-signer link needs a server created with webSockets: { maxPayloadBytes }')
    app.setErrorHandler((error, _request, reply) => {
      if (error instanceof HubApiError) return reply.code(error.statusCode).send(error.body)
      const status = (error as { statusCode?: unknown }).statusCode
      // Fastify's own refusals of a request (unparsable JSON, too large...) keep their status.
      if (typeof status === 'number' && status >= 400 && status < 500)
        return reply.code(status).send({ message: 'malformed request', code: LINK_CODES.invalidRequest })
      // Anything else is the shell's: logged, answered 500 without detail.
      throw error
    })
    app.addHook('preClose', async () => hub.close())

    app.post(`${LINK_PATH_PREFIX}/pair`, async (request) => hub.pair(parse(PairRequestSchema, request.body)))
    app.post(`${LINK_PATH_PREFIX}/token`, async (request) =>
      hub.token(parse(TokenRequestSchema, request.body).refreshToken),
    )
    app.get(`${LINK_PATH_PREFIX}/messages`, async (request, reply) => {
      const party = await hub.authenticate(request.headers.authorization)
      const query = parse(PollQuerySchema, request.query)
      const gone = new AbortController()
      const onClose = () => gone.abort()
      reply.raw.once('close', onClose)
      try {
        const wait = Math.min(query.wait, Math.ceil(heartbeatMs / 1000))
        return await hub.poll(party.name, Number(query.after), wait, gone.signal, query.instance ?? null)
      } finally {
        reply.raw.off('close', onClose)
      }
    })
    // The mailbox pushed over a WebSocket: the upgrade is authenticated (and refused) like any call.
    const accepted = new WeakMap<object, StreamClient>()
    app.route({
      method: 'GET',
      url: LINK_STREAM_PATH,
      preValidation: async (request) => {
        const party = await hub.authenticate(request.headers.authorization)
        const { after, instance } = parse(StreamQuerySchema, request.query)
        const authorization = request.headers.authorization ?? ''
        accepted.set(request, {
          party: party.name,
          authorization,
          after: Number(after),
          instance: instance ?? null,
        })
      },
      handler: async (_request, reply) =>
        reply
          .code(426)
          .header('upgrade', 'websocket')
          .send({
            message: `${LINK_STREAM_PATH} is a WebSocket; without one, poll ${LINK_PATH_PREFIX}/messages`,
            code: LINK_CODES.invalidRequest,
          }),
      wsHandler: (socket, request) => {
        const client = accepted.get(request)
        if (client === undefined) return socket.terminate()
        serveStream(socket, hub, client, {
          heartbeatMs,
          ...(options.log === undefined ? {} : { log: options.log }),
        })
      },
    })
    app.post(`${LINK_PATH_PREFIX}/ack`, async (request) => {
      const party = await hub.authenticate(request.headers.authorization)
      await hub.ack(party.name, Number(parse(AckRequestSchema, request.body).cursor))
      return {}
    })
    app.post(`${LINK_PATH_PREFIX}/envelopes`, async (request) => {
      const party = await hub.authenticate(request.headers.authorization)
      return { relayed: await hub.relay(party.name, parse(EnvelopesRequestSchema, request.body)) }
    })
    app.post(`${LINK_PATH_PREFIX}/results`, async (request) => {
      const party = await hub.authenticate(request.headers.authorization)
      const result = parse(ResultRequestSchema, request.body)
      return { job: result.job, ...(await hub.submitResult(party.name, result)) }
    })
    app.get(`${LINK_PATH_PREFIX}/callback`, async (request) => {
      const party = await hub.authenticate(request.headers.authorization)
      const handler = await options.callbackHandler?.(party)
      if (handler === undefined)
        throw refused(404, LINK_CODES.noCallbackHandler, `no callback handler is set for ${party.name}`)
      return handler
    })
  }
}
