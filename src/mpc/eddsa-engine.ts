import type { EddsaKeyShare } from './frost-key-share.js'
import { deriveEddsa } from './frost-key-share.js'
import { FrostDkgParty, FrostReshareParty } from './frost-keygen.js'
import { FrostPresignParty, FrostSignParty, type EddsaPresignature } from './frost-sign.js'
import { takePresignature } from './presignature-store.js'
import { presignatureId, type ThresholdEngine } from './threshold-engine.js'

/** Threshold Ed25519 (additive-tweak derivation, see `deriveEddsa`); `sign` takes the message itself. */
export type EddsaEngine = ThresholdEngine<EddsaKeyShare, EddsaPresignature, Uint8Array>

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
