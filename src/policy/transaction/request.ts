import { CelRecord, Decimal, EvaluationFailure, normalizeAddress } from '../engine/index.js'

/** A transaction as the hub's policy sees it once the REST request is authenticated and validated. */
export interface TransactionRequest {
  readonly operation: string
  readonly assetId: string
  /** Decimal string in asset units. */
  readonly amount: string
  readonly amountUsd: number
  readonly source: { readonly type: string; readonly id: string }
  readonly destination: { readonly type: string; readonly id?: string; readonly address?: string }
  /** The API user who created the transaction. */
  readonly initiator: string
  readonly note?: string
}

export class TxSourceRecord extends CelRecord {}
export class TxDestRecord extends CelRecord {}

/** Fields `match` may name. */
export const TRANSACTION_FIELDS = [
  'operation',
  'asset',
  'initiator',
  'source.type',
  'source.id',
  'dest.type',
  'dest.id',
  'dest.address',
] as const

/** The normalized facts conditions and match maps read; addresses in their one spelling. */
export function transactionFacts(request: TransactionRequest): Record<string, unknown> {
  const amount = Decimal.parse(request.amount)
  if (amount === undefined) throw new EvaluationFailure('request', 'amount is not a decimal amount')
  return {
    operation: request.operation,
    asset: request.assetId,
    amount,
    amount_usd: Math.round(request.amountUsd * 100) / 100,
    initiator: request.initiator,
    note: request.note ?? '',
    source: new TxSourceRecord({ type: request.source.type, id: request.source.id }),
    dest: new TxDestRecord({
      type: request.destination.type,
      id: request.destination.id ?? '',
      address: normalizeAddress(request.destination.address ?? ''),
    }),
  }
}
