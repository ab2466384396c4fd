import type { HubTransaction } from '../../storage/index.js'

/**
 * A transaction as the API and the webhooks show it: `TransactionResponse` of hub-api.md §5.6, with every
 * field the minimal flow and the official consumers read, strings where the SDK models say strings, `""`
 * where Fireblocks sends `""`, and the deprecated numeric twins legacy consumers still read.
 */
export interface TransactionDetail {
  readonly sourceName?: string
  readonly sourceAddress?: string
  readonly destinationAddress?: string
  readonly destinationName?: string
  readonly addressType?: '' | 'WHITELISTED' | 'ONE_TIME'
  readonly amountInfo?: { amount: string; requestedAmount: string; netAmount: string; amountUSD: string }
  readonly feeInfo?: { networkFee?: string; gasPrice?: string }
  readonly signedMessages?: readonly unknown[]
  readonly txHash?: string
  readonly numOfConfirmations?: number
  readonly blockInfo?: { readonly blockHeight?: string; readonly blockHash?: string }
  readonly signedBy?: readonly string[]
  readonly rejectedBy?: string
  readonly errorDescription?: string
  /** Hub extension: the signed transaction, hex (0x-prefixed), whether the hub broadcast it or not. */
  readonly signedTransaction?: string
  readonly authorizationInfo?: unknown
  readonly policy?: unknown
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '')

function peer(request: Record<string, unknown>, key: 'source' | 'destination', name: string | undefined) {
  const given = (request[key] ?? {}) as Record<string, unknown>
  const type = text(given.type) || 'UNKNOWN'
  if (type === 'ONE_TIME_ADDRESS') return { type, id: '', name: 'N/A', subType: '' }
  return { type, id: text(given.id), name: name ?? '', subType: '' }
}

function numeric(value: string | undefined): number {
  return value === undefined || value === '' ? 0 : Number(value)
}

export function transactionResponse(tx: HubTransaction): Record<string, unknown> {
  const detail = tx.detail as TransactionDetail
  const amountInfo = detail.amountInfo
  return {
    id: tx.id,
    externalTxId: tx.externalTxId ?? '',
    status: tx.status,
    subStatus: tx.subStatus,
    txHash: detail.txHash ?? '',
    operation: tx.operation,
    note: text(tx.request.note),
    assetId: tx.assetId,
    assetType: 'BASE_ASSET',
    source: peer(tx.request, 'source', detail.sourceName),
    sourceAddress: detail.sourceAddress ?? '',
    destination: tx.operation === 'RAW' ? undefined : peer(tx.request, 'destination', detail.destinationName),
    destinationAddress: detail.destinationAddress ?? '',
    destinationAddressDescription: '',
    destinationTag: '',
    destinations: [],
    addressType: detail.addressType ?? '',
    amountInfo: amountInfo ?? {},
    feeInfo: detail.feeInfo ?? {},
    feeCurrency: tx.operation === 'RAW' ? '' : tx.assetId,
    createdAt: tx.createdAt,
    lastUpdated: tx.lastUpdated,
    createdBy: tx.createdBy,
    signedBy: detail.signedBy ?? [],
    rejectedBy: detail.rejectedBy ?? '',
    customerRefId: text(tx.request.customerRefId) || null,
    extraParameters: tx.request.extraParameters ?? {},
    signedMessages: detail.signedMessages ?? [],
    numOfConfirmations: detail.numOfConfirmations ?? 0,
    blockInfo: detail.blockInfo ?? {},
    errorDescription: detail.errorDescription ?? '',
    authorizationInfo: detail.authorizationInfo ?? {},
    exchangeTxId: '',
    ...(detail.signedTransaction === undefined ? {} : { signedTransaction: detail.signedTransaction }),
    // Deprecated numeric twins (hub-api.md §5.6): legacy SDK types still list them.
    amount: numeric(amountInfo?.amount),
    requestedAmount: numeric(amountInfo?.requestedAmount),
    netAmount: numeric(amountInfo?.netAmount),
    amountUSD: amountInfo === undefined ? null : numeric(amountInfo.amountUSD),
    networkFee: numeric(detail.feeInfo?.networkFee),
    fee: numeric(detail.feeInfo?.networkFee),
    serviceFee: 0,
  }
}
