import { createPublicKey, type KeyObject } from 'node:crypto'
import { compactVerify } from 'jose'
import { formatZodIssues } from '../core/index.js'
import {
  LINK_MESSAGE_TYPE,
  LinkMessageSchema,
  type LinkMessage,
  type PairResponse,
} from '../protocol/index.js'

export type MessageCheck =
  { readonly ok: true; readonly message: LinkMessage } | { readonly ok: false; readonly reason: string }

/** The hub's Ed25519 service key, from the JWK that pairing returned. */
export function hubKeyFromJwk(jwk: PairResponse['hubKey']): KeyObject {
  return createPublicKey({ key: { ...jwk }, format: 'jwk' })
}

/**
 * Opens one mailbox message: a compact JWS (EdDSA only, `typ` LINK_MESSAGE_TYPE) under the hub's service
 * key, whose payload is a well-formed `LinkMessage` addressed to `self`. Anything else is refused with the
 * reason, and the caller drops it.
 */
export async function verifyLinkMessage(
  compact: string,
  hubKey: KeyObject,
  self: string,
): Promise<MessageCheck> {
  let payload: Uint8Array
  try {
    const verified = await compactVerify(compact, hubKey, { algorithms: ['EdDSA'] })
    if (verified.protectedHeader.typ !== LINK_MESSAGE_TYPE)
      return { ok: false, reason: `typ ${String(verified.protectedHeader.typ)} is not ${LINK_MESSAGE_TYPE}` }
    payload = verified.payload
  } catch (error) {
    return { ok: false, reason: `not signed by the hub's service key (${(error as Error).message})` }
  }
  let json: unknown
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload))
  } catch {
    return { ok: false, reason: 'the payload is not JSON' }
  }
  const parsed = LinkMessageSchema.safeParse(json)
  if (!parsed.success)
    return { ok: false, reason: `malformed message: ${formatZodIssues(parsed.error).slice(0, 3).join('; ')}` }
  if (parsed.data.to !== self) return { ok: false, reason: `addressed to ${parsed.data.to}, not to ${self}` }
  return { ok: true, message: parsed.data }
}

/** The ids seen lately, at most `capacity` of them (the oldest forgotten first): at-least-once delivery's dedupe. */
export class RecentIds {
  private readonly capacity: number
  private readonly ids = new Set<string>()

  constructor(capacity: number) {
    this.capacity = capacity
  }

  has(id: string): boolean {
    return this.ids.has(id)
  }

  /** True the first time `id` is offered (and remembers it), false for a repeat. */
  firstTime(id: string): boolean {
    if (this.ids.has(id)) return false
    this.ids.add(id)
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value as string)
    return true
  }
}
