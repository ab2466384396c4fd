import type { z } from 'zod'
import { PayloadInvalid } from './errors.js'
import { ConfigChangeRequestSchema, type ConfigChangeRequest } from './config-change-request.js'
import { TxRequestSchema, type TxRequest } from './tx-request.js'
import type { CallbackRoute } from './paths.js'
import { formatZodIssues } from '../core/index.js'

/** Reads `requestId` from an unvalidated payload, so a malformed request can still get a signed answer. */
export function readRequestId(payload: unknown): string | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined
  const requestId = (payload as { requestId?: unknown }).requestId
  return typeof requestId === 'string' && requestId.length > 0 ? requestId : undefined
}

function parseWith<T>(schema: z.ZodType<T>, payload: unknown): T {
  const result = schema.safeParse(payload)
  if (!result.success) throw new PayloadInvalid(formatZodIssues(result.error), readRequestId(payload))
  return result.data
}

/** Validates a transaction request payload; throws `PayloadInvalid` naming every failing field. */
export function parseTxRequest(payload: unknown): TxRequest {
  return parseWith(TxRequestSchema, payload)
}

/** Validates a configuration-change payload; throws `PayloadInvalid` naming every failing field. */
export function parseConfigChangeRequest(payload: unknown): ConfigChangeRequest {
  return parseWith(ConfigChangeRequestSchema, payload)
}

export type CallbackRequest =
  | { readonly route: 'tx'; readonly request: TxRequest }
  | { readonly route: 'config'; readonly request: ConfigChangeRequest }

export function parseCallbackRequest(route: CallbackRoute, payload: unknown): CallbackRequest {
  return route === 'tx'
    ? { route, request: parseTxRequest(payload) }
    : { route, request: parseConfigChangeRequest(payload) }
}
