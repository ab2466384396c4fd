import { presignatureId } from './ecdsa-engine.js'
import type { EddsaKeyShare } from './frost-key-share.js'
import { deriveEddsa } from './frost-key-share.js'
import { FrostDkgParty, FrostReshareParty } from './frost-keygen.js'
import { FrostPresignParty, FrostSignParty, type EddsaPresignature } from './frost-sign.js'
import type { KeygenOptions } from './keygen-options.js'
import { takePresignature, type PresignatureStore } from './presignature-store.js'
import type { RoundParty } from './round-party.js'

/** Threshold Ed25519 as callers see it; the same shape as `EcdsaEngine`, with messages instead of hashes. */
export interface EddsaEngine {
  keygen(options: KeygenOptions<EddsaKeyShare>): RoundParty<EddsaKeyShare | undefined>
  derive(share: EddsaKeyShare, path: readonly number[]): Promise<EddsaKeyShare>
  presign(
    share: EddsaKeyShare,
    path: readonly number[],
    session: Uint8Array,
  ): Promise<RoundParty<EddsaPresignature>>
  sign(
    share: EddsaKeyShare,
    store: PresignatureStore,
    presignatureId: string,
    message: Uint8Array,
  ): Promise<RoundParty<Uint8Array>>
}

/** FROST(Ed25519, SHA-512) from `@noble/curves` (RFC 9591). */
export function createFrostEddsaEngine(): EddsaEngine {
  return {
    keygen: (options) =>
      options.reshare === undefined ? new FrostDkgParty(options) : new FrostReshareParty(options),
    derive: (share, path) => Promise.resolve(deriveEddsa(share, path)),
    presign: (share, path, session) =>
      Promise.resolve(new FrostPresignParty(share, presignatureId(session), path)),
    async sign(share, store, id, message) {
      const presignature = await takePresignature<EddsaPresignature>(store, id)
      return new FrostSignParty(deriveEddsa(share, presignature.path), presignature, message)
    },
  }
}
