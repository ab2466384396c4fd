import { DklsKeygenParty, type DklsKeygenOptions } from './dkls-keygen.js'
import { DklsPresignParty, DklsSignParty, type EcdsaPresignature, type EcdsaSignature } from './dkls-sign.js'
import { withDkls } from './dkls-wasm.js'
import { assertDerivationPath, type DklsParty, type EcdsaKeyShare } from './ecdsa-key-share.js'
import { MpcError } from './errors.js'
import type { KeygenOptions } from './keygen-options.js'
import { takePresignature, type PresignatureStore } from './presignature-store.js'
import type { RoundParty } from './round-party.js'
import { assertThreeOfThree } from './topology.js'
import { WorkerRoundParty } from './worker-round-party.js'

/**
 * Threshold ECDSA on secp256k1, as callers see it. Another implementation (a binding built from the licensed
 * crate, a commercial DKLs23) replaces this one without touching them.
 */
export interface EcdsaEngine {
  /** DKG, or a reshare when `options.reshare` is set (refresh = reshare to the same holders). */
  keygen(options: KeygenOptions<EcdsaKeyShare>): RoundParty<EcdsaKeyShare | undefined>
  /** Non-hardened BIP32 derivation of a share; the set's signatures then verify under the child key. */
  derive(share: EcdsaKeyShare, path: readonly number[]): Promise<EcdsaKeyShare>
  /** The rounds before the message is known; `session` (fresh, 32 random bytes) names the pre-signature. */
  presign(
    share: EcdsaKeyShare,
    path: readonly number[],
    session: Uint8Array,
  ): Promise<RoundParty<EcdsaPresignature>>
  /** The online round: takes the pre-signature out of `store` (marking it used) before anything else. */
  sign(
    share: EcdsaKeyShare,
    store: PresignatureStore,
    presignatureId: string,
    hash: Uint8Array,
  ): Promise<RoundParty<EcdsaSignature>>
}

export const presignatureId = (session: Uint8Array): string => Buffer.from(session).toString('hex')

export function createDklsEcdsaEngine(options: { readonly keygenInWorker?: boolean } = {}): EcdsaEngine {
  const keygenInWorker = options.keygenInWorker ?? true
  const derive = async (share: EcdsaKeyShare, path: readonly number[]): Promise<EcdsaKeyShare> => {
    assertDerivationPath(path)
    assertThreeOfThree(share.holders)
    let party = share.party
    for (const index of path) {
      const outcome = (await withDkls((w) => w.derive_child_keyshare(party, index))) as {
        Ok?: DklsParty
        Err?: { description?: string }
      }
      if (outcome.Ok === undefined)
        throw new MpcError('CS_MPC_BAD_INPUT', `derivation failed: ${outcome.Err?.description ?? 'unknown'}`)
      party = outcome.Ok
    }
    return { ...share, party }
  }
  return {
    keygen(keygenOptions: DklsKeygenOptions) {
      const local = new DklsKeygenParty(keygenOptions) // validates the topology in this thread, before any work
      if (!keygenInWorker) return local
      const script = new URL(
        `./dkls-keygen-worker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`,
        import.meta.url,
      )
      return new WorkerRoundParty(keygenOptions.self, script, keygenOptions, (round) => local.senders(round))
    },
    derive,
    async presign(share, path, session) {
      return new DklsPresignParty(await derive(share, path), presignatureId(session), session, path)
    },
    async sign(share, store, id, hash) {
      // Checked before the pre-signature is taken, so a bad argument does not burn one.
      if (hash.length !== 32) throw new MpcError('CS_MPC_BAD_INPUT', 'ECDSA signs a 32-byte message hash')
      const presignature = await takePresignature<EcdsaPresignature>(store, id)
      return new DklsSignParty(await derive(share, presignature.path), presignature, hash)
    },
  }
}
