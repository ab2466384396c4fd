import type { TransactionRequest } from '../../policy/index.js'
import type { SigningAlgorithm } from '../../protocol/index.js'
import type { HubTransaction } from '../../storage/index.js'
import type { RawRequest, TransferRequest } from '../transactions/request-schema.js'
import type { SigningMessage, TransactionChain } from './ports.js'

/** What signing a transaction takes: the messages, and for a transfer how to finish the signed transaction. */
export interface SigningPlan {
  readonly algorithm: SigningAlgorithm
  readonly messages: readonly SigningMessage[]
  readonly detail: Record<string, unknown>
  readonly finish?: (signature: unknown) => { readonly signedTransaction: string; readonly txHash: string }
  /** For a transfer: the source address and the most it can take from it (base units). */
  readonly spend?: { readonly from: string; readonly maxCost: bigint }
}

/** ECDSA signs a 32-byte digest as given; EdDSA signs the content bytes themselves. */
export function checkContent(algorithm: SigningAlgorithm, content: string, index: number): void {
  if (algorithm === 'MPC_ECDSA_SECP256K1' && content.length !== 64)
    throw new RangeError(
      `message ${index}: an ECDSA content is a 32-byte digest (64 hex characters), got ${content.length / 2} bytes`,
    )
}

function rawPlan(tx: HubTransaction, chain: TransactionChain): SigningPlan {
  const data = (tx.request as RawRequest).extraParameters.rawMessageData
  const algorithm = data.algorithm ?? chain.algorithm(tx.assetId)
  const vaultId = tx.sourceId ?? '0'
  const messages = data.messages.map((message, index) => {
    checkContent(algorithm, message.content, index)
    const addressIndex = message.bip44addressIndex ?? message.bip44AddressIndex ?? 0
    return {
      content: message.content,
      path: message.derivationPath ?? chain.path(tx.assetId, vaultId, message.bip44change ?? 0, addressIndex),
    }
  })
  return { algorithm, messages, detail: {} }
}

async function transferPlan(tx: HubTransaction, chain: TransactionChain): Promise<SigningPlan> {
  const request = tx.request as TransferRequest
  const vaultId = tx.sourceId ?? '0'
  const destination = request.destination
  const destinationAddress =
    destination.type === 'ONE_TIME_ADDRESS'
      ? destination.oneTimeAddress.address
      : await chain.sourceAddress(tx.assetId, destination.id)
  const prepared = await chain.prepareTransfer({
    txId: tx.id,
    createdAt: tx.createdAt,
    assetId: tx.assetId,
    vaultId,
    destinationAddress,
    amount: request.amount,
    fixed: tx.detail.transfer as Record<string, unknown> | undefined,
  })
  const sourceAddress = await chain.sourceAddress(tx.assetId, vaultId)
  return {
    algorithm: chain.algorithm(tx.assetId),
    messages: [prepared.message],
    detail: {
      ...prepared.detail,
      transfer: prepared.fixed,
      sourceAddress,
      destinationAddress,
      addressType: destination.type === 'ONE_TIME_ADDRESS' ? 'ONE_TIME' : '',
    },
    finish: (signature) => prepared.finish(signature),
    spend: { from: sourceAddress, maxCost: prepared.maxCost },
  }
}

export function signingPlan(tx: HubTransaction, chain: TransactionChain): Promise<SigningPlan> {
  return tx.operation === 'RAW' ? Promise.resolve(rawPlan(tx, chain)) : transferPlan(tx, chain)
}

/** The transaction as the policy sees it. */
export function policyRequest(tx: HubTransaction, plan: SigningPlan, usdPrice: number): TransactionRequest {
  const request = tx.request as Partial<TransferRequest>
  const address = typeof plan.detail.destinationAddress === 'string' ? plan.detail.destinationAddress : ''
  const amount = tx.operation === 'RAW' ? '0' : (request.amount ?? '0')
  const destination = request.destination
  return {
    operation: tx.operation,
    assetId: tx.assetId,
    amount,
    amountUsd: Number(amount) * usdPrice,
    source: { type: 'VAULT_ACCOUNT', id: tx.sourceId ?? '' },
    destination:
      destination === undefined
        ? // A RAW signature has no destination: never read as a whitelisted one.
          { type: 'NONE', addressType: 'ONE_TIME' }
        : destination.type === 'ONE_TIME_ADDRESS'
          ? { type: 'ONE_TIME_ADDRESS', address, addressType: 'ONE_TIME' }
          : { type: 'VAULT_ACCOUNT', id: destination.id, address, addressType: 'INTERNAL' },
    initiator: tx.createdBy,
    ...(typeof request.note === 'string' ? { note: request.note } : {}),
  }
}
