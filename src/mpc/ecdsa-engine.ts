import { DklsKeygenParty, type DklsKeygenOptions } from './dkls-keygen.js'
import { DklsPresignParty, DklsSignParty, type EcdsaPresignature, type EcdsaSignature } from './dkls-sign.js'
import { withDkls } from './dkls-wasm.js'
import { assertDerivationPath, type DklsParty, type EcdsaKeyShare } from './ecdsa-key-share.js'
import { MpcError } from './errors.js'
import { takePresignature } from './presignature-store.js'
import { presignatureId, type ThresholdEngine } from './threshold-engine.js'
import { assertThreeOfThree } from './topology.js'
import { WorkerRoundParty } from './worker-round-party.js'

/**
 * Threshold ECDSA on secp256k1 (BIP32 derivation); `sign` takes the 32-byte message hash.
 */
export type EcdsaEngine = ThresholdEngine<EcdsaKeyShare, EcdsaPresignature, EcdsaSignature>

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
