import { z } from 'zod'
import { Identifier } from './identifier.js'
import { RequestKind } from './actions.js'

/**
 * The transaction request payload (`tx_sign_request`, protocol.md §2). Objects are loose: Fireblocks adds
 * fields over time and an unknown field must be kept, never dropped. Amounts used for decisions are the
 * decimal strings; the deprecated float fields are accepted and kept but never read by Countersign.
 */

/** A non-negative decimal written as a string, e.g. `"0.010000000000000000"`. */
export const DecimalString = z.string().regex(/^\d+(\.\d+)?$/, 'expected a non-negative decimal string')

/** Deprecated float fields: a JSON number (`0.01000000` parses fine) or, leniently, a numeric string. */
const DeprecatedNumber = z.union([z.number(), z.string()])

export const ActionInfoSchema = z.looseObject({
  capturedRuleNum: z.number().int().optional(),
  rulesSnapshotId: z.number().int().optional(),
  byGlobalPolicy: z.boolean().optional(),
  byRule: z.boolean().optional(),
  /** A JSON-encoded TAP rule, kept as the string it arrives as (see `parseCapturedRule`). */
  capturedRule: z.string().optional(),
})

export const DestinationSchema = z.looseObject({
  amountNative: DeprecatedNumber.optional(),
  amountNativeStr: DecimalString.optional(),
  amountUSD: z.number().nonnegative(),
  dstAddressType: z.string().min(1),
  dstId: z.string(),
  dstWalletId: z.string().optional(),
  dstName: z.string().optional(),
  dstSubType: z.string().optional(),
  dstType: z.string().min(1),
  dstAddress: z.string().optional(),
  /** Signing stage only. */
  displayDstAddress: z.string().optional(),
  action: z.string().optional(),
  actionInfo: ActionInfoSchema.optional(),
})

/** `keyDerivationPath` arrives as the string `"[ 44, 60, 0, 0, 0 ]"` in every example; arrays are accepted too. */
export const KeyDerivationPath = z.union([z.string(), z.array(z.number().int().nonnegative())])

export const RawTxSchema = z.looseObject({
  keyDerivationPath: KeyDerivationPath,
  rawTx: z.string(),
  payload: z.string(),
})

export const TxRequestSchema = z.looseObject({
  requestId: Identifier,
  txId: Identifier,
  externalTxId: z.string().optional(),
  operation: z.string().min(1),
  sourceType: z.string().min(1),
  sourceId: z.string(),
  destType: z.string().min(1),
  destId: z.string(),
  asset: z.string().min(1),
  amount: DeprecatedNumber.optional(),
  amountStr: DecimalString,
  requestedAmount: DeprecatedNumber.optional(),
  requestedAmountStr: DecimalString.optional(),
  /** Signing stage only. */
  fee: z.string().optional(),
  destAddressType: z.string().min(1),
  destAddress: z.string(),
  destinations: z.array(DestinationSchema).min(1),
  /** Signing stage only, when the workspace sends raw data. */
  rawTx: z.array(RawTxSchema).optional(),
  players: z.array(z.string()).optional(),
  signerId: Identifier.optional(),
  note: z.string().optional(),
  extraParameters: z.record(z.string(), z.unknown()).optional(),
})
export type TxRequest = z.infer<typeof TxRequestSchema>
export type TxDestination = z.infer<typeof DestinationSchema>

/**
 * Operations that sign a message rather than move an amount: their signing requests carry no `fee` and
 * no display address by nature, so the absence of those fields says nothing about the stage.
 */
const MESSAGE_OPERATIONS: ReadonlySet<string> = new Set(['RAW', 'TYPED_MESSAGE'])

/**
 * The stage of a transaction request, read so that it fails closed (docs/handler.md, "Request
 * classification"): a request is the approval stage only when it is unambiguously one, because IGNORE is
 * valid there and never on a signing request. Unambiguous means all of:
 * - none of the signing-only fields (`fee`, `rawTx`, `destinations[].displayDstAddress`), present at all;
 * - every destination carries the policy verdict the approval stage asks about (`action`, `actionInfo`);
 * - the operation moves an amount (not `RAW`/`TYPED_MESSAGE`, whose signing requests look the same).
 * Anything else is the signing stage.
 */
export function txRequestKind(
  request: TxRequest,
): typeof RequestKind.txApproval | typeof RequestKind.txSigning {
  const hasSigningField =
    request.fee !== undefined ||
    request.rawTx !== undefined ||
    request.destinations.some((destination) => destination.displayDstAddress !== undefined)
  const carriesVerdicts = request.destinations.every(
    (destination) => destination.action !== undefined && destination.actionInfo !== undefined,
  )
  const isApproval = !hasSigningField && carriesVerdicts && !MESSAGE_OPERATIONS.has(request.operation)
  return isApproval ? RequestKind.txApproval : RequestKind.txSigning
}

/** Decodes `actionInfo.capturedRule`; `undefined` when absent or not valid JSON. */
export function parseCapturedRule(actionInfo: z.infer<typeof ActionInfoSchema> | undefined): unknown {
  if (actionInfo?.capturedRule === undefined) return undefined
  try {
    return JSON.parse(actionInfo.capturedRule) as unknown
  } catch {
    return undefined
  }
}
