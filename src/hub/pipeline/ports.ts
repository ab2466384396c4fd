import type { SigningAlgorithm } from '../../protocol/index.js'
import type { PreparedDecision, TransactionDecision, TransactionRequest } from '../../policy/index.js'
import type { HubTransaction, WriteSession } from '../../storage/index.js'

/**
 * What the transaction pipeline needs from the rest of the hub, each behind a small interface so that the
 * pipeline's rules (which status follows which, who signs, what completes a transaction) are tested on their
 * own and each part (chains, policy, link, webhooks, audit) can change without touching them.
 */

/** One message the signature of a transaction needs. */
export interface SigningMessage {
  readonly content: string
  readonly path: readonly number[]
  /** The bytes whose digest `content` is (an unsigned EVM transaction), hex without 0x; shown to the callback. */
  readonly preimage?: string
}

/** The chain-specific steps of a transaction. */
export interface TransactionChain {
  /** The algorithm of the asset's key. */
  algorithm(assetId: string): SigningAlgorithm
  /** The BIP44 path of a vault's address: `[44, coin, vault, change, index]`, all non-hardened. */
  path(assetId: string, vaultId: string, change: number, index: number): number[]
  /** The address of a vault's permanent deposit address for the asset (index 0). */
  sourceAddress(assetId: string, vaultId: string): Promise<string>
  /** The messages to sign for a TRANSFER, and how to finish it once signed. */
  prepareTransfer(input: PrepareTransferInput): Promise<PreparedTransfer>
  /** True when `signature` (wire format of the link) is valid for `content` under the key derived on `path`. */
  verify(algorithm: SigningAlgorithm, message: SigningMessage, signature: unknown): Promise<boolean>
  /** The `signedMessages[]` entry of §5.9. */
  signedMessage(algorithm: SigningAlgorithm, message: SigningMessage, signature: unknown): Promise<unknown>
}

export interface PrepareTransferInput {
  readonly txId: string
  readonly createdAt: number
  readonly assetId: string
  readonly vaultId: string
  readonly destinationAddress: string
  readonly amount: string
  /** What an earlier preparation of this transaction fixed (nonce, fees), to prepare exactly the same again. */
  readonly fixed: Record<string, unknown> | undefined
}

export interface PreparedTransfer {
  readonly message: SigningMessage
  /** The detail the transaction shows before it is signed (fees, amounts). */
  readonly detail: Record<string, unknown>
  /** What to keep so that the same transaction is prepared again after a restart (`fixed`). */
  readonly fixed: Record<string, unknown>
  /** The most the transfer can take from its source, in base units: its value and its highest network fee. */
  readonly maxCost: bigint
  /** The signed transaction and its hash, from the signature. */
  finish(signature: unknown): { readonly signedTransaction: string; readonly txHash: string }
}

/** The chain nodes the hub broadcasts to: an asset without one completes once signed, its transaction unsent. */
export interface ChainNetwork {
  node(assetId: string): ChainNode | undefined
}

/**
 * The node of one asset's chain. The hub sends it what it signed for the asset and follows the transaction
 * until it has `confirmations` blocks. A transient fault (node down, timeout) throws: the sweep tries again.
 */
export interface ChainNode {
  readonly confirmations: number
  /** Base units the address holds. */
  balance(address: string): Promise<bigint>
  /** Sends a signed transaction. Sending one the node already holds or has mined is accepted, never an error. */
  broadcast(signedTransaction: string, txHash: string): Promise<BroadcastVerdict>
  inclusion(txHash: string): Promise<ChainInclusion>
}

/** The node's answer to a transaction sent: accepted, or refused for good with a Fireblocks subStatus. */
export type BroadcastVerdict =
  | { readonly accepted: true }
  | { readonly accepted: false; readonly subStatus: string; readonly reason: string }

/** Where a sent transaction stands: not in a block yet, or in one with so many confirmations (1 = its own). */
export type ChainInclusion =
  | { readonly included: false }
  | {
      readonly included: true
      readonly succeeded: boolean
      readonly confirmations: number
      readonly blockHeight: string
      readonly blockHash: string
    }

/**
 * The workspace policy in force (published by the Owner and an Admin quorum), prepared for a request: its
 * velocity series to read, then the decision from their figures.
 */
export interface PolicySource {
  prepare(request: TransactionRequest, now: Date): Promise<PreparedDecision<TransactionDecision>>
}

/**
 * The parties that can sign: customer co-signers' API users with a key set, and whether they are reachable
 * (heard from, by a poll or a heartbeat, within the signing lease).
 */
export interface SignerDirectory {
  /** API users holding a set of `algorithm` whose co-signer is reachable, most recently seen first. */
  availableSigners(algorithm: SigningAlgorithm): Promise<readonly string[]>
  /**
   * `signer`'s co-signer's process while it is reachable (its signing leases are renewed while the same one
   * is); undefined when it is not.
   */
  reachable(signer: string): Promise<{ readonly instance: string | null } | undefined>
}

export interface SignJobRequest {
  readonly txId: string
  readonly attempt: number
  readonly algorithm: SigningAlgorithm
  readonly signer: string
  readonly ruleId: string | null
  readonly messages: readonly SigningMessage[]
  /** The `tx_sign_request` the signer's callback handler is asked (protocol.md §2), requestId included. */
  readonly callback: Record<string, unknown>
}

export type SignOutcome =
  | { readonly outcome: 'signed'; readonly signatures: readonly unknown[] }
  | { readonly outcome: 'declined'; readonly reason: string }
  | { readonly outcome: 'failed'; readonly reason: string }

/** Runs one signing attempt with the signer's co-signer and the two cloud co-signers. */
export interface SigningService {
  /** `onSigning` is told when the approval is given and the signature's MPC sessions start. */
  sign(request: SignJobRequest, signal: AbortSignal, onSigning?: () => void): Promise<SignOutcome>
  /** Abandons what is left of an attempt whose driver is gone (another replica, killed): its parties stop. */
  abandon(txId: string, attempt: number, reason: string): Promise<void>
}

export type TransactionEvent = 'TRANSACTION_CREATED' | 'TRANSACTION_STATUS_UPDATED'

/** Side effects recorded in the same write as the status change they belong to. */
export interface TransactionEffects {
  notify(session: WriteSession, event: TransactionEvent, transaction: Record<string, unknown>): Promise<void>
  /** The vault balances' side of a status change (a transfer's debit held, settled or voided). */
  account?(session: WriteSession, transaction: HubTransaction): Promise<void>
  audit(session: WriteSession, event: string, body: Record<string, unknown>): Promise<void>
}
