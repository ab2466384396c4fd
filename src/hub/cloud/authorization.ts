import type { KeyObject } from 'node:crypto'
import { CompactSign, compactVerify } from 'jose'
import { formatZodIssues } from '../../core/index.js'
import { AUTHORIZATION_TYPE, AuthorizationSchema, type Authorization } from '../../protocol/index.js'

/** The hub's signing authorization: a compact JWS (EdDSA, service key, `typ` AUTHORIZATION_TYPE). */
export async function signAuthorization(serviceKey: KeyObject, payload: Authorization): Promise<string> {
  const checked = AuthorizationSchema.parse(payload)
  return new CompactSign(new TextEncoder().encode(JSON.stringify(checked)))
    .setProtectedHeader({ alg: 'EdDSA', typ: AUTHORIZATION_TYPE })
    .sign(serviceKey)
}

export type AuthorizationCheck =
  | { readonly ok: true; readonly authorization: Authorization }
  | { readonly ok: false; readonly reason: string }

/** Verifies an authorization under the hub's key and reads its payload; `nowSeconds` decides expiry. */
export async function readAuthorization(
  compact: string,
  hubKey: KeyObject,
  nowSeconds: number,
): Promise<AuthorizationCheck> {
  let payload: Uint8Array
  try {
    const verified = await compactVerify(compact, hubKey, { algorithms: ['EdDSA'] })
    if (verified.protectedHeader.typ !== AUTHORIZATION_TYPE)
      return { ok: false, reason: `the authorization's typ is not ${AUTHORIZATION_TYPE}` }
    payload = verified.payload
  } catch {
    return { ok: false, reason: "the authorization does not verify under the hub's service key" }
  }
  let json: unknown
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload))
  } catch {
    return { ok: false, reason: 'the authorization payload is not JSON' }
  }
  const parsed = AuthorizationSchema.safeParse(json)
  if (!parsed.success)
    return {
      ok: false,
      reason: `malformed authorization: ${formatZodIssues(parsed.error).slice(0, 3).join('; ')}`,
    }
  if (parsed.data.exp <= nowSeconds)
    return {
      ok: false,
      reason: `the authorization expired at ${new Date(parsed.data.exp * 1000).toISOString()}`,
    }
  return { ok: true, authorization: parsed.data }
}
