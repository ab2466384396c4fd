import {
  ChainError,
  EvmNodeRefused,
  EvmRpc,
  type AssetRegistry,
  type EvmFeeSuggestion,
} from '../chains/index.js'
import type { BroadcastVerdict, ChainInclusion, ChainNode } from '../pipeline/ports.js'

/**
 * The node of an EVM asset (`chains.<asset>` in hub.yaml) as the pipeline uses it: nonce and fees for a new
 * transfer, the source's balance, the broadcast with the node's refusals sorted into Fireblocks subStatuses,
 * and confirmations counted from the receipt's block.
 */
export interface EvmNodeSettings {
  readonly rpcUrl: string
  readonly confirmations: number
}

/** Answers of geth, Nethermind, Erigon, Besu and anvil meaning "I hold this very transaction already". */
const ALREADY_KNOWN = /already known|known transaction|already imported|already exists|AlreadyKnown/i
const NONCE_TOO_LOW = /nonce too low|nonce is too low|OldNonce/i
const INSUFFICIENT_FUNDS = /insufficient funds/i
/** JSON-RPC codes of a node's own trouble (rate limit, internal error), not a verdict on the transaction. */
const TRANSIENT_CODES = new Set([-32005, -32603, 429])

export class EvmChainNode implements ChainNode {
  readonly confirmations: number
  private readonly rpc: EvmRpc

  constructor(rpc: EvmRpc, confirmations: number) {
    this.rpc = rpc
    this.confirmations = confirmations
  }

  /** The nonce a new transfer from `address` takes: the node's count, its pool included. */
  nextNonce(address: string): Promise<bigint> {
    return this.rpc.transactionCount(address)
  }

  fees(): Promise<EvmFeeSuggestion> {
    return this.rpc.suggestFees()
  }

  balance(address: string): Promise<bigint> {
    return this.rpc.balance(address)
  }

  async broadcast(signedTransaction: string, txHash: string): Promise<BroadcastVerdict> {
    try {
      await this.rpc.sendRawTransaction(signedTransaction)
      return { accepted: true }
    } catch (error) {
      if (!(error instanceof EvmNodeRefused) || TRANSIENT_CODES.has(error.rpcCode)) throw error
      return this.verdictOnRefusal(error, txHash)
    }
  }

  async inclusion(txHash: string): Promise<ChainInclusion> {
    const receipt = await this.rpc.transactionReceipt(txHash)
    if (receipt === undefined) return { included: false }
    const head = await this.rpc.blockNumber()
    return {
      included: true,
      succeeded: receipt.succeeded,
      // A node behind the one that answered the receipt (a load balancer) must not count below one.
      confirmations: Math.max(1, Number(head - receipt.blockNumber + 1n)),
      blockHeight: receipt.blockNumber.toString(),
      blockHash: receipt.blockHash,
    }
  }

  /** "Already known", or a nonce used up by this very transaction (mined), is a send that happened. */
  private async verdictOnRefusal(refusal: EvmNodeRefused, txHash: string): Promise<BroadcastVerdict> {
    const said = refusal.nodeMessage
    if (ALREADY_KNOWN.test(said)) return { accepted: true }
    if (NONCE_TOO_LOW.test(said) && (await this.rpc.transactionReceipt(txHash)) !== undefined)
      return { accepted: true }
    const reason = `the node refused the transaction: ${said}`
    if (NONCE_TOO_LOW.test(said)) return { accepted: false, subStatus: 'INVALID_NONCE_TOO_LOW', reason }
    if (INSUFFICIENT_FUNDS.test(said)) return { accepted: false, subStatus: 'INSUFFICIENT_FUNDS', reason }
    return { accepted: false, subStatus: 'REJECTED_BY_BLOCKCHAIN', reason }
  }
}

/**
 * One node per configured asset, each checked before the hub starts: its chain id must be the one the hub
 * signs the asset's transactions for, or the hub refuses to start (a transfer would never be mined).
 */
export async function connectEvmNodes(
  registry: AssetRegistry,
  settings: Readonly<Record<string, EvmNodeSettings>>,
  options: { readonly fetch?: typeof fetch } = {},
): Promise<Map<string, EvmChainNode>> {
  const nodes = new Map<string, EvmChainNode>()
  for (const [assetId, { rpcUrl, confirmations }] of Object.entries(settings)) {
    const asset = registry.get(assetId)
    if (asset?.chain !== 'evm')
      throw new ChainError('CS_CHAIN_NODE_MISMATCH', `chains.${assetId}: the hub has no EVM asset ${assetId}`)
    const rpc = new EvmRpc({ url: rpcUrl, ...(options.fetch === undefined ? {} : { fetch: options.fetch }) })
    const served = await rpc.chainId()
    if (served !== asset.chainId)
      throw new ChainError(
        'CS_CHAIN_NODE_MISMATCH',
        `chains.${assetId}: the node at ${rpc.host} serves chain id ${served}, but the hub signs ${assetId} for chain id ${asset.chainId}`,
      )
    nodes.set(assetId, new EvmChainNode(rpc, confirmations))
  }
  return nodes
}
