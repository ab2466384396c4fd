import type { Logger } from 'pino'
import { describeError } from '../../service/index.js'
import {
  transactionsInStatus,
  type HubTransaction,
  type StorageDatabase,
  type TransactionTransition,
} from '../../storage/index.js'
import type { ChainNetwork, ChainNode } from './ports.js'
import type { SigningPlan } from './signing-plan.js'

/**
 * The chain leg of a transfer whose asset has a node: funds checked before signing, then BROADCASTING (the
 * signed transaction recorded before it is sent) → CONFIRMING (PENDING_BLOCKCHAIN_CONFIRMATIONS, one webhook
 * per new confirmation) → COMPLETED / CONFIRMED, or FAILED when the node refuses it or the chain reverts it.
 * Sending is idempotent (the same bytes, which a node that holds them accepts again), so after a crash the
 * sweep of any replica sends once more and follows on; every move is guarded, so it happens once.
 */
export type Move = (txId: string, change: TransactionTransition) => Promise<HubTransaction | undefined>

export interface BroadcastOptions {
  readonly db: StorageDatabase
  readonly log: Logger
  readonly now: () => number
  readonly network: ChainNetwork
  /** The pipeline's guarded move, with its webhook and audit entry. */
  readonly move: Move
}

interface SignedDetail {
  readonly signedTransaction?: string
  readonly txHash?: string
  readonly numOfConfirmations?: number
}

export class BroadcastLeg {
  private readonly options: BroadcastOptions
  /** Transactions this replica is sending now: its sweep leaves them to that send. */
  private readonly sending = new Set<string>()

  constructor(options: BroadcastOptions) {
    this.options = options
  }

  /** True when the hub sends the transaction itself once signed (a transfer of an asset with a node). */
  broadcasts(tx: HubTransaction, plan: SigningPlan): boolean {
    return plan.finish !== undefined && this.options.network.node(tx.assetId) !== undefined
  }

  /**
   * Before signing: fails a queued transfer its source cannot pay (value and highest network fee) with
   * INSUFFICIENT_FUNDS; true when it may be signed.
   */
  async fundsSuffice(tx: HubTransaction, plan: SigningPlan): Promise<boolean> {
    const node = this.options.network.node(tx.assetId)
    if (node === undefined || plan.spend === undefined) return true
    const balance = await node.balance(plan.spend.from)
    if (balance >= plan.spend.maxCost) return true
    await this.options.move(tx.id, {
      from: ['QUEUED'],
      status: 'FAILED',
      subStatus: 'INSUFFICIENT_FUNDS',
      detail: {
        errorDescription: `${plan.spend.from} holds ${balance} base units of ${tx.assetId}; the transfer may take up to ${plan.spend.maxCost} (amount and highest network fee)`,
      },
      at: this.options.now(),
    })
    return false
  }

  /** Sends a BROADCASTING transaction and moves it to CONFIRMING; a fault is logged and left to the sweep. */
  async send(tx: HubTransaction): Promise<void> {
    if (this.sending.has(tx.id)) return
    this.sending.add(tx.id)
    try {
      await this.sendOnce(tx)
    } catch (error) {
      this.options.log.warn(
        { txId: tx.id, cause: describeError(error) },
        'broadcast failed; the sweep sends again',
      )
    } finally {
      this.sending.delete(tx.id)
    }
  }

  /** Takes up what is being broadcast or confirmed, whichever replica started it. */
  async sweep(): Promise<void> {
    for (const tx of await this.inStatus('BROADCASTING')) await this.send(tx)
    for (const tx of await this.inStatus('CONFIRMING')) {
      try {
        await this.follow(tx)
      } catch (error) {
        this.options.log.warn({ txId: tx.id, cause: describeError(error) }, 'confirmation check failed')
      }
    }
  }

  private async sendOnce(tx: HubTransaction): Promise<void> {
    const node = this.nodeOf(tx)
    const { signedTransaction, txHash } = tx.detail as SignedDetail
    if (signedTransaction === undefined || txHash === undefined)
      throw new Error('a BROADCASTING transaction has no signed transaction')
    const verdict = await node.broadcast(signedTransaction, txHash)
    await this.options.move(
      tx.id,
      verdict.accepted
        ? {
            from: ['BROADCASTING'],
            status: 'CONFIRMING',
            subStatus: 'PENDING_BLOCKCHAIN_CONFIRMATIONS',
            detail: { numOfConfirmations: 0 },
            at: this.options.now(),
          }
        : {
            from: ['BROADCASTING'],
            status: 'FAILED',
            subStatus: verdict.subStatus,
            detail: { errorDescription: verdict.reason },
            at: this.options.now(),
          },
    )
  }

  /** One look at a CONFIRMING transaction: a move when its confirmations changed or it became final. */
  private async follow(tx: HubTransaction): Promise<void> {
    const node = this.nodeOf(tx)
    const detail = tx.detail as SignedDetail
    const inclusion = await node.inclusion(detail.txHash ?? '')
    const confirmations = inclusion.included ? inclusion.confirmations : 0
    const blockInfo = inclusion.included
      ? { blockHeight: inclusion.blockHeight, blockHash: inclusion.blockHash }
      : {}
    const common = { from: ['CONFIRMING'], at: this.options.now() }
    if (!inclusion.included || confirmations < node.confirmations) {
      if (confirmations === detail.numOfConfirmations) return
      await this.options.move(tx.id, {
        ...common,
        status: 'CONFIRMING',
        subStatus: 'PENDING_BLOCKCHAIN_CONFIRMATIONS',
        detail: { numOfConfirmations: confirmations, blockInfo },
      })
      return
    }
    await this.options.move(
      tx.id,
      inclusion.succeeded
        ? {
            ...common,
            status: 'COMPLETED',
            subStatus: 'CONFIRMED',
            detail: { numOfConfirmations: confirmations, blockInfo },
          }
        : {
            ...common,
            status: 'FAILED',
            subStatus: 'REJECTED_BY_BLOCKCHAIN',
            detail: {
              numOfConfirmations: confirmations,
              blockInfo,
              errorDescription: `the transaction was mined in block ${inclusion.blockHeight} and reverted`,
            },
          },
    )
  }

  private nodeOf(tx: HubTransaction): ChainNode {
    const node = this.options.network.node(tx.assetId)
    if (node === undefined)
      throw new Error(`no chain node is configured for ${tx.assetId} (chains.${tx.assetId}.rpcUrl)`)
    return node
  }

  private inStatus(status: string): Promise<HubTransaction[]> {
    return this.options.db.read((db) => transactionsInStatus(db, status, { limit: 100 }))
  }
}
