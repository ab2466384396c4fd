import type { HubTransaction } from '../../storage/index.js'
import type { TransferRequest } from '../transactions/request-schema.js'
import type { SigningPlan } from './signing-plan.js'

/**
 * The `tx_sign_request` a designated signer's callback handler is asked before its co-signer signs
 * (protocol.md §2, signing stage: `rawTx` lists every message with the bytes it digests). The first attempt's
 * requestId is the txId, as in the vendor's traffic; a later attempt (another co-signer after a failover) is
 * a new request, `<txId>.<attempt>`, so a handler never mistakes it for an altered replay of the first.
 * The signing service adds `players`, the parties of the signature.
 */
export interface CallbackRequestInput {
  readonly tx: HubTransaction
  readonly plan: SigningPlan
  readonly signer: string
  readonly attempt: number
  readonly usdPrice: number
}

export const callbackRequestId = (txId: string, attempt: number): string =>
  attempt === 1 ? txId : `${txId}.${attempt}`

export function callbackRequest(input: CallbackRequestInput): Record<string, unknown> {
  const { tx, plan } = input
  const request = tx.request as Partial<TransferRequest> & { note?: unknown }
  const amount = tx.operation === 'RAW' ? '0' : (request.amount ?? '0')
  const destination = destinationOf(tx, plan)
  const fee = (plan.detail.feeInfo as { networkFee?: unknown } | undefined)?.networkFee
  return {
    requestId: callbackRequestId(tx.id, input.attempt),
    txId: tx.id,
    ...(tx.externalTxId === null ? {} : { externalTxId: tx.externalTxId }),
    operation: tx.operation,
    sourceType: 'VAULT',
    sourceId: tx.sourceId ?? '0',
    destType: destination.type,
    destId: destination.id,
    asset: tx.assetId,
    amountStr: amount,
    requestedAmountStr: amount,
    destAddressType: destination.addressType,
    destAddress: destination.address,
    destinations: [
      {
        amountNativeStr: amount,
        amountUSD: Number(amount) * input.usdPrice,
        dstAddressType: destination.addressType,
        dstId: destination.id,
        dstType: destination.type,
        dstAddress: destination.address,
        displayDstAddress: destination.address,
      },
    ],
    ...(typeof fee === 'string' ? { fee } : {}),
    rawTx: plan.messages.map((message) => ({
      keyDerivationPath: `[ ${message.path.join(', ')} ]`,
      rawTx: message.preimage ?? message.content,
      payload: message.content,
    })),
    signerId: input.signer,
    ...(typeof request.note === 'string' ? { note: request.note } : {}),
  }
}

interface CallbackDestination {
  readonly type: string
  readonly id: string
  readonly address: string
  readonly addressType: string
}

/** A RAW signature names no destination: the handler sees type UNKNOWN and an empty address. */
function destinationOf(tx: HubTransaction, plan: SigningPlan): CallbackDestination {
  const destination = (tx.request as Partial<TransferRequest>).destination
  const address = typeof plan.detail.destinationAddress === 'string' ? plan.detail.destinationAddress : ''
  if (destination === undefined) return { type: 'UNKNOWN', id: '', address: '', addressType: 'ONE_TIME' }
  if (destination.type === 'ONE_TIME_ADDRESS')
    return { type: 'ONE_TIME_ADDRESS', id: '', address, addressType: 'ONE_TIME' }
  return { type: 'VAULT', id: destination.id, address, addressType: 'WHITELISTED' }
}
