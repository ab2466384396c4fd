import type { ConfigChangeRequest, RequestKind, TxRequest } from '../protocol/index.js'
import { normalizeAddress } from './engine/address.js'
import { DestRecord, SourceRecord } from './cel-environment.js'
import { Decimal } from './engine/decimal.js'
import { PolicyEvaluationError } from './errors.js'

/**
 * The normalized view of a request that conditions, `match` maps and velocity `group_by` read. Field
 * names are snake_case; amounts come only from the exact fields (`amountStr`, `fee`, and the per
 * destination `amountUSD`), never from the deprecated floats. Optional payload fields that may be absent
 * (`fee`, `signer_id`) are left out when absent, so a condition reading them fails closed instead of
 * seeing an empty value.
 */
export type RequestFacts = Record<string, unknown>

const WHITELISTED = 'WHITELISTED'
const ONE_TIME = 'ONE_TIME'

/** Fields `match` and `group_by` may name, per request family. `extraInfo.<key>` is open for config changes. */
export const TX_FIELDS = [
  'kind',
  'operation',
  'asset',
  'source.type',
  'source.id',
  'dest.type',
  'dest.id',
  'dest.address',
  'dest.address_type',
  'signer_id',
] as const
export const CONFIG_FIELDS = ['kind', 'type', 'signer_id'] as const
const EXTRA_INFO_PREFIX = 'extraInfo.'

export function isTxKind(kind: RequestKind): boolean {
  return kind !== 'config_change'
}

/** Whether `match`/`group_by` may name `path` for requests of `kind`. */
export function isKnownField(kind: RequestKind, path: string): boolean {
  if (isTxKind(kind)) return (TX_FIELDS as readonly string[]).includes(path)
  return (
    (CONFIG_FIELDS as readonly string[]).includes(path) ||
    (path.startsWith(EXTRA_INFO_PREFIX) && path.length > EXTRA_INFO_PREFIX.length)
  )
}

/**
 * Integer USD cents of a transaction: the sum of its destinations' `amountUSD`, each rounded to cents
 * first so that binary floating point never accumulates across destinations.
 */
export function amountUsdCents(request: TxRequest): number {
  let cents = 0
  for (const destination of request.destinations) cents += Math.round(destination.amountUSD * 100)
  if (!Number.isSafeInteger(cents)) {
    throw new PolicyEvaluationError('the request USD amount is too large to count exactly in cents')
  }
  return cents
}

function txFacts(kind: RequestKind, request: TxRequest): RequestFacts {
  const cents = amountUsdCents(request)
  const amount = Decimal.parse(request.amountStr)
  if (amount === undefined) throw new PolicyEvaluationError('amountStr is not a decimal amount')
  // Every destination must be whitelisted: one one-time output among several makes the request one-time.
  const whitelisted =
    request.destAddressType === WHITELISTED &&
    request.destinations.every((destination) => destination.dstAddressType === WHITELISTED)
  const oneTime =
    request.destAddressType === ONE_TIME ||
    request.destinations.some((destination) => destination.dstAddressType === ONE_TIME)
  const facts: RequestFacts = {
    kind,
    operation: request.operation,
    asset: request.asset,
    amount,
    amount_usd: cents / 100,
    amount_usd_cents: cents,
    note: request.note ?? '',
    raw_tx: request.rawTx !== undefined && request.rawTx.length > 0,
    source: new SourceRecord({ type: request.sourceType, id: request.sourceId }),
    dest: new DestRecord({
      type: request.destType,
      id: request.destId,
      address: normalizeAddress(request.destAddress),
      address_type: request.destAddressType,
      whitelisted,
      one_time: oneTime,
    }),
    destinations: request.destinations.map((destination) => ({
      type: destination.dstType,
      id: destination.dstId,
      address: normalizeAddress(destination.dstAddress ?? destination.displayDstAddress ?? ''),
      address_type: destination.dstAddressType,
      whitelisted: destination.dstAddressType === WHITELISTED,
      amount_usd: Math.round(destination.amountUSD * 100) / 100,
    })),
    request,
  }
  if (request.signerId !== undefined) facts.signer_id = request.signerId
  const fee = request.fee === undefined ? undefined : Decimal.parse(request.fee)
  if (fee !== undefined) facts.fee = fee
  return facts
}

function configFacts(request: ConfigChangeRequest): RequestFacts {
  const facts: RequestFacts = {
    kind: 'config_change',
    type: request.type,
    change_type: request.type,
    extraInfo: request.extraInfo ?? {},
    request,
  }
  if (request.signerId !== undefined) facts.signer_id = request.signerId
  return facts
}

const factsCache = new WeakMap<object, { readonly kind: RequestKind; readonly facts: RequestFacts }>()

/**
 * Normalizes a validated request. Throws `PolicyEvaluationError` only for amounts it cannot read exactly.
 * Facts are never mutated, so they are cached per request object: `velocityProbes` and `evaluate` of the
 * same input normalize once.
 */
export function requestFacts(kind: RequestKind, request: TxRequest | ConfigChangeRequest): RequestFacts {
  const cached = factsCache.get(request)
  if (cached?.kind === kind) return cached.facts
  const facts = normalize(kind, request)
  factsCache.set(request, { kind, facts })
  return facts
}

function normalize(kind: RequestKind, request: TxRequest | ConfigChangeRequest): RequestFacts {
  if (kind === 'config_change') {
    if (!('type' in request))
      throw new PolicyEvaluationError('a config_change input must carry a config-change request')
    return configFacts(request as ConfigChangeRequest)
  }
  if (!('destinations' in request))
    throw new PolicyEvaluationError(`a ${kind} input must carry a transaction request`)
  return txFacts(kind, request as TxRequest)
}
