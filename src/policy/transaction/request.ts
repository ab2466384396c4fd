import { CelRecord, Decimal, EvaluationFailure, normalizeAddress } from '../engine/index.js'

/**
 * How the hub classifies a destination: an address on the workspace's whitelist, a one-time address typed
 * in with the transaction, or one of the workspace's own accounts (vault to vault).
 */
export type DestinationAddressType = 'WHITELISTED' | 'ONE_TIME' | 'INTERNAL'

/** A transaction as the hub's policy sees it once the REST request is authenticated and validated. */
export interface TransactionRequest {
  /** TRANSFER, CONTRACT_CALL, RAW, … (`operation` in conditions and `match`). */
  readonly operation: string
  readonly assetId: string
  /** Decimal string in asset units. */
  readonly amount: string
  readonly amountUsd: number
  /** `type` as the API spells it: VAULT_ACCOUNT, EXCHANGE_ACCOUNT, FIAT_ACCOUNT, … */
  readonly source: { readonly type: string; readonly id: string }
  readonly destination: {
    readonly type: string
    readonly id?: string
    readonly address?: string
    /** Required: the policy cannot tell a one-time address from a whitelisted one by itself. */
    readonly addressType: DestinationAddressType
  }
  /** The API user who created the transaction. */
  readonly initiator: string
  readonly note?: string
}

export class TxSourceRecord extends CelRecord {}
export class TxDestRecord extends CelRecord {}

/** Fields `match` and velocity `group_by` may name. */
export const TRANSACTION_FIELDS = [
  'operation',
  'asset',
  'initiator',
  'source.type',
  'source.id',
  'dest.type',
  'dest.id',
  'dest.address',
  'dest.address_type',
] as const

const ADDRESS_TYPES: readonly string[] = [
  'WHITELISTED',
  'ONE_TIME',
  'INTERNAL',
] satisfies DestinationAddressType[]

/**
 * Integer USD cents of the transaction, what velocity windows count. Throws `EvaluationFailure` for an
 * amount that cannot be counted exactly (the decision fails closed).
 */
export function transactionUsdCents(request: TransactionRequest): number {
  const cents = Math.round(request.amountUsd * 100)
  if (!Number.isSafeInteger(cents) || cents < 0) {
    throw new EvaluationFailure('request', 'amountUsd is not a non-negative amount countable in cents')
  }
  return cents
}

/** The normalized facts conditions, match maps and velocity groups read; addresses in their one spelling. */
export function transactionFacts(request: TransactionRequest): Record<string, unknown> {
  const amount = Decimal.parse(request.amount)
  if (amount === undefined) throw new EvaluationFailure('request', 'amount is not a decimal amount')
  const addressType = request.destination.addressType
  // A request built without the classification must not read as whitelisted.
  if (!ADDRESS_TYPES.includes(addressType)) {
    throw new EvaluationFailure('request', 'destination.addressType is not WHITELISTED, ONE_TIME or INTERNAL')
  }
  const cents = transactionUsdCents(request)
  return {
    operation: request.operation,
    asset: request.assetId,
    amount,
    amount_usd: cents / 100,
    amount_usd_cents: cents,
    initiator: request.initiator,
    note: request.note ?? '',
    source: new TxSourceRecord({ type: request.source.type, id: request.source.id }),
    dest: new TxDestRecord({
      type: request.destination.type,
      id: request.destination.id ?? '',
      address: normalizeAddress(request.destination.address ?? ''),
      address_type: addressType,
      // The workspace's own accounts are known destinations, as whitelisted ones are; one-time ones are not.
      whitelisted: addressType !== 'ONE_TIME',
    }),
  }
}
