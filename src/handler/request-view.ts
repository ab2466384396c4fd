import { amountUsdCents } from '../policy/index.js'
import { parseTxRequest } from '../protocol/index.js'

/**
 * How a recorded request is shown (operator commands, the approvals console): the same fields in the text
 * line, in `--json` and on the page, so two different requests never show identical rows.
 */
export interface RequestView {
  readonly txId: string | null
  readonly operation: string | null
  readonly source: string | null
  readonly destination: string | null
  readonly asset: string | null
  readonly amount: string | null
  /** The USD amount the policy decided on (the destinations' `amountUSD` in cents); null when unreadable. */
  readonly amountUsd: number | null
  /** Config-change requests: their type. */
  readonly type: string | null
}

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null)

function usdOf(request: unknown): number | null {
  try {
    return amountUsdCents(parseTxRequest(request)) / 100
  } catch {
    return null
  }
}

/** The request's identifying fields, read leniently: a malformed request is shown too. */
export function requestView(route: string, request: unknown): RequestView {
  const payload = (request ?? {}) as Record<string, unknown>
  if (route === 'config') {
    return {
      txId: null,
      operation: null,
      source: null,
      destination: null,
      asset: null,
      amount: null,
      amountUsd: null,
      type: text(payload.type),
    }
  }
  const destination = text(payload.destAddress) || text(payload.destId)
  return {
    txId: text(payload.txId),
    operation: text(payload.operation),
    source:
      text(payload.sourceType) === null
        ? null
        : `${text(payload.sourceType)}:${text(payload.sourceId) ?? ''}`,
    destination: destination === null ? null : `${text(payload.destType) ?? '?'}:${destination}`,
    asset: text(payload.asset),
    amount: text(payload.amountStr),
    amountUsd: usdOf(request),
    type: null,
  }
}

export function formatUsd(amountUsd: number | null): string {
  return amountUsd === null ? '? USD' : `${amountUsd.toFixed(2)} USD`
}

/** One phrase for what the request asks: `0.5 ETH (1234.00 USD) from VAULT:0 to ONE_TIME:0xabc`. */
export function describeRequest(view: RequestView): string {
  if (view.type !== null) return `config change ${view.type}`
  return `${view.amount ?? '?'} ${view.asset ?? '?'} (${formatUsd(view.amountUsd)}) from ${view.source ?? '?'} to ${view.destination ?? '?'}`
}
