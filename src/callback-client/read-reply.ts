import type { KeyObject } from 'node:crypto'
import {
  CallbackResponseSchema,
  JwtAlgorithmNotAllowed,
  JwtSignatureInvalid,
  extractCompactToken,
  verifyCallbackResponse,
  verifyRs256,
  type AuthMode,
  type CallbackResponse,
} from '../protocol/index.js'
import type { HttpReply } from './post-callback.js'
import { formatZodIssues } from '../core/index.js'

/** Where a reply stopped being usable: not HTTP 200, not a valid signature, or inexact claims. */
export type ReplyStage = 'status' | 'signature' | 'claims'

export type ReadReply =
  | { readonly ok: true; readonly response: CallbackResponse }
  | { readonly ok: false; readonly stage: ReplyStage; readonly reason: string }

/**
 * Reads a handler's answer as a co-signer does. JWT modes: RS256 signed by the handler key of that API
 * user, with exactly the claims `action`, `requestId`, `rejectionReason?`, `iat?`. Certificate mode: the
 * same object as plain JSON (the TLS pin authenticates it). Whether `requestId` matches is the caller's
 * check, since only the caller knows what it sent.
 */
export async function readReply(
  reply: HttpReply,
  mode: AuthMode,
  handlerPublicKey: KeyObject | undefined,
): Promise<ReadReply> {
  if (reply.status !== 200) return { ok: false, stage: 'status', reason: `answered HTTP ${reply.status}` }
  if (mode === 'certificate') return readJsonReply(reply.body)
  if (handlerPublicKey === undefined) {
    return { ok: false, stage: 'signature', reason: 'no handler public key to verify the answer with' }
  }
  const token = extractCompactToken(reply.body)
  try {
    await verifyRs256(token, [handlerPublicKey])
  } catch (error) {
    return { ok: false, stage: 'signature', reason: describeSignatureError(error) }
  }
  try {
    return { ok: true, response: await verifyCallbackResponse(token, handlerPublicKey) }
  } catch (error) {
    return { ok: false, stage: 'claims', reason: error instanceof Error ? error.message : String(error) }
  }
}

function describeSignatureError(error: unknown): string {
  if (error instanceof JwtAlgorithmNotAllowed)
    return `the answer is signed with ${error.algorithm}, not RS256`
  if (error instanceof JwtSignatureInvalid) return 'the answer is not signed by the handler public key'
  return 'the answer is not a compact RS256 JWS'
}

function readJsonReply(body: string): ReadReply {
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    return { ok: false, stage: 'claims', reason: 'the answer is not a JSON object' }
  }
  const result = CallbackResponseSchema.safeParse(parsed)
  if (result.success) return { ok: true, response: result.data }
  const detail = formatZodIssues(result.error)
  return {
    ok: false,
    stage: 'claims',
    reason: `response fields are not {action, requestId, rejectionReason?}: ${detail.join('; ')}`,
  }
}
