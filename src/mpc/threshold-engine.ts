import type { KeygenOptions } from './keygen-options.js'
import type { PresignatureStore } from './presignature-store.js'
import type { RoundParty } from './round-party.js'

/**
 * One threshold-signature scheme as callers see it, whatever library implements it: another implementation
 * (a binding built from the licensed DKLs23 crate, a commercial DKLs23) replaces one without touching callers.
 */
export interface ThresholdEngine<Share, Presignature, Signature> {
  /** DKG, or a reshare when `options.reshare` is set (refresh = reshare to the same holders). */
  keygen(options: KeygenOptions<Share>): RoundParty<Share | undefined>
  /** Non-hardened derivation of a share; the set's signatures then verify under the child key. */
  derive(share: Share, path: readonly number[]): Promise<Share>
  /** The rounds before the message is known; `session` (fresh, 32 random bytes) names the pre-signature. */
  presign(share: Share, path: readonly number[], session: Uint8Array): Promise<RoundParty<Presignature>>
  /** The online round: takes the pre-signature out of `store` (marking it used) before anything else. */
  sign(
    share: Share,
    store: PresignatureStore,
    presignatureId: string,
    message: Uint8Array,
  ): Promise<RoundParty<Signature>>
}

/** The id under which a pre-signature is stored: its session id in hex. */
export const presignatureId = (session: Uint8Array): string => Buffer.from(session).toString('hex')
