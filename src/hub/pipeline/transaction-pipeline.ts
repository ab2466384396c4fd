import { randomUUID } from 'node:crypto'
import type { Clock } from '../../core/index.js'
import { describeError } from '../../service/index.js'
import type { PreparedDecision, TransactionDecision } from '../../policy/index.js'
import {
  insertTransaction,
  lockTransaction,
  readTransactionVelocity,
  reserveTransactionVelocity,
  readTransaction,
  readTransactionVotes,
  recordTransactionVote,
  expiredSigningLeases,
  signingLoad,
  transactionsInStatus,
  transitionTransaction,
  type HubTransaction,
  type StorageDatabase,
  type TransactionTransition,
  type WriteSession,
} from '../../storage/index.js'
import type { Logger } from 'pino'
import { TransactionMissing, VoteRefused } from '../errors.js'
import { transactionResponse } from '../transactions/transaction-view.js'
import { BroadcastLeg } from './broadcast.js'
import type {
  ChainNetwork,
  PolicySource,
  SignerDirectory,
  SigningMessage,
  SigningService,
  TransactionChain,
  TransactionEffects,
} from './ports.js'
import { callbackRequest } from './callback-request.js'
import { policyRequest, signingPlan, type SigningPlan } from './signing-plan.js'
import { quorumOutcome } from './quorum.js'
import { holdSigningLease } from './signing-lease.js'

/**
 * The life of a transaction (hub-api.md §5.7): SUBMITTED → (policy) BLOCKED | PENDING_AUTHORIZATION | QUEUED →
 * (a signer claims it) PENDING_SIGNATURE → COMPLETED, or REJECTED / CANCELLED / FAILED; a transfer of an asset
 * with a chain node goes PENDING_SIGNATURE → BROADCASTING → CONFIRMING → COMPLETED (./broadcast.ts). Every move is a
 * guarded transition (it names the statuses it leaves), so two hub replicas racing on one transaction move it
 * once, and each move commits with its webhook and its audit entry.
 *
 * Dispatch is first-available with a lease: the transaction is claimed for one attempt by the least loaded
 * designated signer whose co-signer is reachable; the attempt number is the fencing token. The hub driving
 * the attempt renews the lease while that co-signer is heard from; when it is not (killed, network cut), or
 * the driving hub itself dies, the lease runs out, the attempt's jobs are cancelled (its parties stop, the
 * relay refuses its envelopes, the cloud co-signers refuse older attempts) and the transaction is queued for
 * the next available signer. Every move out of signing names its attempt, so a superseded attempt changes
 * nothing. An attempt that fails otherwise (a party refused, the budget ran out) fails the transaction:
 * fail closed.
 */
export interface PipelineOptions {
  readonly db: StorageDatabase
  readonly clock: Clock
  readonly log: Logger
  readonly chain: TransactionChain
  readonly policy: PolicySource
  readonly signers: SignerDirectory
  readonly signing: SigningService
  readonly effects: TransactionEffects
  /** How long the MPC signature of one attempt may take, once the signer's co-signer approved it. */
  readonly signingBudgetMs: number
  /** How long the signer's co-signer may take to approve (its callback handler's RETRY series included). */
  readonly approvalBudgetMs: number
  /** How long an attempt holds its transaction unless renewed (renewed while its co-signer is heard from). */
  readonly leaseMs: number
  /** USD price of one unit of each asset, for the policy's amount_usd. */
  readonly usdPrice: (assetId: string) => number
  /** The chain nodes the hub broadcasts to (./broadcast.ts); without one a transfer completes once signed. */
  readonly network?: ChainNetwork
}

export interface NewTransaction {
  readonly createdBy: string
  readonly request: Record<string, unknown> & { readonly operation: string; readonly assetId: string }
  readonly externalTxId: string | null
  readonly sourceId: string
}

const BEFORE_SIGNING = ['SUBMITTED', 'PENDING_AUTHORIZATION', 'QUEUED']
/** Attempts whose lease ran out before one finishes: beyond this the transaction fails (a flapping signer). */
const MAX_SIGNING_ATTEMPTS = 10

export class TransactionPipeline {
  private readonly options: PipelineOptions
  private readonly inFlight = new Map<string, AbortController>()
  private readonly running = new Set<Promise<void>>()
  private readonly broadcast: BroadcastLeg
  /** Breaks ties between equally loaded signers, so that concurrent dispatches spread over them. */
  private rotation = 0
  private stopping = false

  constructor(options: PipelineOptions) {
    this.options = options
    this.broadcast = new BroadcastLeg({
      db: options.db,
      log: options.log,
      now: () => options.clock.now(),
      network: options.network ?? { node: () => undefined },
      move: (txId, change) => options.db.write((session) => this.move(session, txId, change)),
    })
  }

  /** Records a SUBMITTED transaction (with its TRANSACTION_CREATED webhook) and starts its processing. */
  async create(input: NewTransaction): Promise<HubTransaction> {
    const now = this.options.clock.now()
    const tx: HubTransaction = {
      id: randomUUID(),
      externalTxId: input.externalTxId,
      createdBy: input.createdBy,
      operation: input.request.operation,
      assetId: input.request.assetId,
      sourceId: input.sourceId,
      status: 'SUBMITTED',
      subStatus: '',
      request: input.request,
      detail: {},
      ruleId: null,
      signer: null,
      attempt: 0,
      createdAt: now,
      lastUpdated: now,
    }
    await this.options.db.write(async (session) => {
      await insertTransaction(session, tx)
      await this.options.effects.notify(session, 'TRANSACTION_CREATED', transactionResponse(tx))
      await this.options.effects.audit(session, 'transaction-created', {
        txId: tx.id,
        createdBy: tx.createdBy,
        operation: tx.operation,
        assetId: tx.assetId,
        externalTxId: tx.externalTxId,
      })
    })
    this.kick(tx.id)
    return tx
  }

  /** An approver's vote on a transaction held for a quorum; moves it on when the quorum is decided. */
  async vote(txId: string, userId: string, vote: 'APPROVED' | 'REJECTED'): Promise<HubTransaction> {
    const at = this.options.clock.now()
    const moved = await this.options.db.write(async (session) => {
      const tx = await readTransaction(session.db, txId)
      if (tx === undefined) throw new TransactionMissing(`no transaction has id ${txId}`)
      const required = (tx.detail.policy as { approvers?: { quorum: number; of: string[] } } | undefined)
        ?.approvers
      if (tx.status !== 'PENDING_AUTHORIZATION' || required === undefined)
        throw new VoteRefused(`transaction ${txId} is ${tx.status}, not awaiting authorization`)
      if (!required.of.includes(userId))
        throw new VoteRefused(`${userId} is not an approver of transaction ${txId}`)
      await recordTransactionVote(session, txId, { userId, vote, at })
      await this.options.effects.audit(session, 'transaction-vote', { txId, userId, vote })
      const votes = await readTransactionVotes(session.db, txId)
      const outcome = quorumOutcome(required, votes)
      const authorizationInfo = authorizationInfoOf(required, votes)
      if (outcome === 'pending')
        return this.move(session, txId, {
          from: ['PENDING_AUTHORIZATION'],
          status: 'PENDING_AUTHORIZATION',
          detail: { authorizationInfo },
          at,
        })
      return this.move(
        session,
        txId,
        outcome === 'approved'
          ? { from: ['PENDING_AUTHORIZATION'], status: 'QUEUED', detail: { authorizationInfo }, at }
          : {
              from: ['PENDING_AUTHORIZATION'],
              status: 'REJECTED',
              subStatus: 'REJECTED_BY_USER',
              detail: { authorizationInfo, rejectedBy: userId },
              at,
            },
      )
    })
    this.kick(txId)
    return moved ?? ((await this.options.db.read((db) => readTransaction(db, txId))) as HubTransaction)
  }

  /** Cancels a transaction that has not reached signing's end; false when it is past that point. */
  async cancel(txId: string): Promise<boolean> {
    const at = this.options.clock.now()
    const moved = await this.options.db.write((session) =>
      this.move(session, txId, {
        from: [...BEFORE_SIGNING, 'PENDING_SIGNATURE'],
        status: 'CANCELLED',
        subStatus: 'CANCELLED_BY_USER',
        at,
      }),
    )
    this.inFlight.get(txId)?.abort(new Error('the transaction was cancelled'))
    return moved !== undefined
  }

  /**
   * Takes up what a previous run (or another replica) left: unprocessed, queued, an attempt whose lease ran
   * out, being broadcast or confirmed.
   */
  async sweep(): Promise<void> {
    const now = this.options.clock.now()
    for (const status of ['SUBMITTED', 'QUEUED']) {
      const waiting = await this.options.db.read((db) => transactionsInStatus(db, status, { limit: 100 }))
      for (const tx of waiting) this.kick(tx.id)
    }
    const expired = await this.options.db.read((db) => expiredSigningLeases(db, now, 100))
    for (const tx of expired)
      if (!this.inFlight.has(tx.id))
        await this.failOver(tx.id, tx.attempt, `attempt ${tx.attempt}'s lease ran out (its hub stopped)`)
    await this.broadcast.sweep()
  }

  /** Waits for the work started so far (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running])
  }

  /**
   * Stops: the attempts this hub drives are abandoned but their transactions left in signing, for another
   * replica (or the next start) to take over once their lease runs out.
   */
  async close(): Promise<void> {
    this.stopping = true
    for (const controller of this.inFlight.values()) controller.abort(new Error('the hub is stopping'))
    await this.idle()
  }

  private kick(txId: string): void {
    const work = this.advance(txId)
      .catch((error: unknown) =>
        this.options.log.error({ txId, cause: describeError(error) }, 'transaction step failed'),
      )
      .finally(() => this.running.delete(work))
    this.running.add(work)
  }

  private async advance(txId: string): Promise<void> {
    const tx = await this.options.db.read((db) => readTransaction(db, txId))
    if (tx?.status === 'SUBMITTED') {
      const next = await this.evaluate(tx)
      if (next?.status === 'QUEUED') await this.dispatch(next)
    } else if (tx?.status === 'QUEUED') await this.dispatch(tx)
  }

  private async evaluate(tx: HubTransaction): Promise<HubTransaction | undefined> {
    const now = this.options.clock.now()
    let prepared: PreparedDecision<TransactionDecision>
    let plan: SigningPlan
    try {
      plan = await signingPlan(tx, this.options.chain)
      prepared = await this.options.policy.prepare(
        policyRequest(tx, plan, this.options.usdPrice(tx.assetId)),
        new Date(now),
      )
    } catch (error) {
      return this.options.db.write((session) =>
        this.move(session, tx.id, {
          from: ['SUBMITTED'],
          status: 'FAILED',
          subStatus: 'INTERNAL_ERROR',
          detail: { errorDescription: describeError(error) },
          at: now,
        }),
      )
    }
    return this.options.db.write(async (session) => {
      // Velocity is read and reserved under the transaction's and its series' locks, in one write.
      await lockTransaction(session, tx.id)
      const decision = prepared.decide(await readTransactionVelocity(session, prepared.probes, now))
      if (decision.action !== 'BLOCK' && decision.reservations !== undefined)
        await reserveTransactionVelocity(session, tx.id, decision.reservations, now)
      return this.record(session, tx, decision, plan.detail, now)
    })
  }

  /** The policy's verdict as the transaction's next status, with the match in the audit. */
  private async record(
    session: WriteSession,
    tx: HubTransaction,
    decision: TransactionDecision,
    planned: Record<string, unknown>,
    now: number,
  ): Promise<HubTransaction | undefined> {
    const policy = {
      ruleId: decision.ruleId,
      action: decision.action,
      reason: decision.reason,
      ...(decision.approvers === undefined ? {} : { approvers: decision.approvers }),
      ...(decision.signers === undefined ? {} : { signers: decision.signers }),
      decidedBy: decision.trace.decided_by,
      version: decision.trace.policy.version,
    }
    const common = { from: ['SUBMITTED'], ruleId: decision.ruleId, at: now }
    const detail = { ...planned, policy }
    await this.options.effects.audit(session, 'policy-match', { txId: tx.id, ...policy })
    if (decision.action === 'BLOCK')
      return this.move(session, tx.id, {
        ...common,
        status: 'BLOCKED',
        subStatus: 'BLOCKED_BY_POLICY',
        detail: { ...detail, errorDescription: decision.reason },
      })
    if (decision.action === 'REQUIRE_APPROVAL')
      return this.move(session, tx.id, {
        ...common,
        status: 'PENDING_AUTHORIZATION',
        detail: { ...detail, authorizationInfo: authorizationInfoOf(decision.approvers, []) },
      })
    return this.move(session, tx.id, { ...common, status: 'QUEUED', detail })
  }

  /** Claims the transaction for one attempt with an available designated signer, and signs. */
  private async dispatch(tx: HubTransaction): Promise<void> {
    const plan = await signingPlan(tx, this.options.chain)
    const signer = await this.chooseSigner(tx, plan)
    if (signer === undefined) {
      this.options.log.warn(
        { txId: tx.id },
        'no designated signer is available; the transaction stays queued',
      )
      return
    }
    if (!(await this.broadcast.fundsSuffice(tx, plan))) return
    const attempt = tx.attempt + 1
    const now = this.options.clock.now()
    const claimed = await this.options.db.write((session) =>
      this.move(session, tx.id, {
        from: ['QUEUED'],
        fence: tx.attempt,
        status: 'PENDING_SIGNATURE',
        signer,
        attempt,
        leaseUntil: now + this.options.leaseMs,
        at: now,
      }),
    )
    if (claimed === undefined) return
    await this.sign(claimed, plan, signer, attempt)
  }

  /**
   * The designated signer (any, when the rule names none) that is reachable and holds the fewest attempts,
   * so that signing throughput grows with the number of co-signers.
   */
  private async chooseSigner(tx: HubTransaction, plan: SigningPlan): Promise<string | undefined> {
    const designated = (tx.detail.policy as { signers?: string[] } | undefined)?.signers
    const candidates = (await this.options.signers.availableSigners(plan.algorithm)).filter(
      (name) => designated === undefined || designated.includes(name),
    )
    if (candidates.length <= 1) return candidates[0]
    const load = await this.options.db.read(signingLoad)
    // Concurrent dispatches read the same load: the rotation spreads their ties.
    const offset = this.rotation++
    const rank = (name: string, index: number) => ({
      name,
      load: load.get(name) ?? 0,
      turn: (index + offset) % candidates.length,
    })
    return candidates.map(rank).sort((a, b) => a.load - b.load || a.turn - b.turn)[0]?.name
  }

  private async sign(tx: HubTransaction, plan: SigningPlan, signer: string, attempt: number): Promise<void> {
    const controller = new AbortController()
    this.inFlight.set(tx.id, controller)
    const timer = this.options.clock.setTimer(this.attemptBudgetMs(), () =>
      controller.abort(new Error('the signing attempt ran out of time')),
    )
    const lease = holdSigningLease(this.options, { txId: tx.id, signer, attempt }, controller)
    try {
      const outcome = await this.options.signing.sign(
        {
          txId: tx.id,
          attempt,
          algorithm: plan.algorithm,
          signer,
          ruleId: tx.ruleId,
          messages: plan.messages,
          callback: callbackRequest({
            tx,
            plan,
            signer,
            attempt,
            usdPrice: this.options.usdPrice(tx.assetId),
          }),
        },
        controller.signal,
        () => lease.pinProcess(),
      )
      const lost = lease.release()
      if (outcome.outcome === 'signed') await this.finish(tx, plan, signer, outcome)
      else if (lost !== undefined) await this.failOver(tx.id, attempt, lost)
      else if (!this.stopping) await this.finish(tx, plan, signer, outcome)
    } finally {
      timer.cancel()
      lease.release()
      this.inFlight.delete(tx.id)
    }
  }

  /**
   * Hands a transaction whose attempt lost its lease to the next signer: its jobs are cancelled first (so
   * that no party finishes it), then it is queued again, fenced by the attempt. Past MAX_SIGNING_ATTEMPTS it
   * fails instead.
   */
  private async failOver(txId: string, attempt: number, reason: string): Promise<void> {
    await this.options.signing.abandon(txId, attempt, reason)
    const at = this.options.clock.now()
    const exhausted = attempt >= MAX_SIGNING_ATTEMPTS
    const moved = await this.options.db.write((session) =>
      this.move(
        session,
        txId,
        exhausted
          ? {
              from: ['PENDING_SIGNATURE'],
              fence: attempt,
              status: 'FAILED',
              subStatus: 'TIMEOUT',
              detail: {
                errorDescription: `${attempt} signing attempts lost their lease; the last: ${reason}`,
              },
              at,
            }
          : { from: ['PENDING_SIGNATURE'], fence: attempt, status: 'QUEUED', at },
      ),
    )
    if (moved === undefined) return
    this.options.log.warn(
      { txId, attempt, reason, status: moved.status },
      'a signing attempt lost its lease; the transaction moved on',
    )
    if (!exhausted) this.kick(txId)
  }

  /** An attempt: the approval, then the signature (each also bounded by the signing service). */
  private attemptBudgetMs(): number {
    return this.options.approvalBudgetMs + this.options.signingBudgetMs
  }

  private async finish(
    tx: HubTransaction,
    plan: SigningPlan,
    signer: string,
    outcome: Awaited<ReturnType<SigningService['sign']>>,
  ): Promise<void> {
    const at = this.options.clock.now()
    const from = ['PENDING_SIGNATURE']
    const fence = tx.attempt
    if (outcome.outcome !== 'signed') {
      const declined = outcome.outcome === 'declined'
      await this.options.db.write((session) =>
        this.move(session, tx.id, {
          from,
          fence,
          status: declined ? 'REJECTED' : 'FAILED',
          subStatus: declined ? 'REJECTED_BY_USER' : 'SIGNING_ERROR',
          detail: {
            errorDescription: declined
              ? `the API co-signer of ${signer} declined: ${outcome.reason}`
              : outcome.reason,
            ...(declined ? { rejectedBy: signer } : {}),
          },
          at,
        }),
      )
      return
    }
    const signedMessages = await Promise.all(
      plan.messages.map((message: SigningMessage, index) =>
        this.options.chain.signedMessage(plan.algorithm, message, outcome.signatures[index]),
      ),
    )
    const finished = plan.finish?.(outcome.signatures[0])
    const broadcasts = this.broadcast.broadcasts(tx, plan)
    const moved = await this.options.db.write(async (session) => {
      await this.options.effects.audit(session, 'signature', {
        txId: tx.id,
        attempt: tx.attempt,
        signer,
        contents: plan.messages.map((m) => m.content),
      })
      return this.move(session, tx.id, {
        from,
        fence,
        ...(broadcasts
          ? { status: 'BROADCASTING' }
          : { status: 'COMPLETED', subStatus: finished === undefined ? '' : 'CONFIRMED' }),
        detail: {
          signedBy: [signer],
          ...(finished === undefined
            ? { signedMessages }
            : { txHash: finished.txHash, signedTransaction: finished.signedTransaction }),
        },
        at,
      })
    })
    if (broadcasts && moved !== undefined) await this.broadcast.send(moved)
  }

  /** One guarded move, with its webhook and audit entry in the same write. */
  private async move(
    session: WriteSession,
    txId: string,
    change: TransactionTransition,
  ): Promise<HubTransaction | undefined> {
    const moved = await transitionTransaction(session, txId, change)
    if (moved === undefined) return undefined
    await this.options.effects.account?.(session, moved)
    await this.options.effects.notify(session, 'TRANSACTION_STATUS_UPDATED', transactionResponse(moved))
    await this.options.effects.audit(session, 'transaction-status', {
      txId,
      status: moved.status,
      subStatus: moved.subStatus,
      attempt: moved.attempt,
    })
    return moved
  }
}

function authorizationInfoOf(
  required: { readonly quorum: number; readonly of: readonly string[] } | undefined,
  votes: readonly { readonly userId: string; readonly vote: string }[],
): unknown {
  if (required === undefined) return {}
  const users = Object.fromEntries(
    required.of.map((user) => [
      user,
      votes.find((vote) => vote.userId === user)?.vote ?? 'PENDING_AUTHORIZATION',
    ]),
  )
  return { allowOperatorAsAuthorizer: false, logic: 'AND', groups: [{ th: required.quorum, users }] }
}
