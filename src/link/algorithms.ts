import {
  ecdsaChainCode,
  ecdsaPublicKey,
  eddsaPublicKey,
  MpcError,
  storePresignature,
  type EcdsaEngine,
  type EcdsaKeyShare,
  type EddsaEngine,
  type EddsaKeyShare,
  type KeygenOptions,
  type PresignatureStore,
  type RoundParty,
} from '../mpc/index.js'
import type { ResultRequest, SigningAlgorithm } from '../protocol/index.js'
import type { KeyShare } from './key-share-store.js'
import { PhasedParty } from './phased-party.js'

export interface Engines {
  readonly ecdsa: EcdsaEngine
  readonly eddsa: EddsaEngine
}

export type WireSignature = NonNullable<ResultRequest['signature']>

/** What the runner does with one algorithm's engine, whatever its share and signature types. */
export interface AlgorithmSuite {
  keygen(options: KeygenOptions<KeyShare>): RoundParty<KeyShare | undefined>
  /** Pre-signature then online round over one session; the pre-signature goes through `store` (single use). */
  signing(
    share: KeyShare,
    path: readonly number[],
    session: Uint8Array,
    content: Uint8Array,
    store: PresignatureStore,
  ): Promise<RoundParty<WireSignature>>
  /** The set's public key and chain code, in hex, as the hub records them. */
  describe(share: KeyShare): { publicKey: string; chainCode: string }
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

function ecdsaSuite(engine: EcdsaEngine): AlgorithmSuite {
  const own = (share: KeyShare) => share as EcdsaKeyShare
  return {
    keygen: (options) => engine.keygen(options as KeygenOptions<EcdsaKeyShare>),
    async signing(share, path, session, hash, store) {
      // Checked before any pre-signature exists, so a bad job burns none.
      if (hash.length !== 32) throw new MpcError('CS_MPC_BAD_INPUT', 'ECDSA signs a 32-byte message hash')
      const presign = await engine.presign(own(share), path, session)
      return new PhasedParty(presign, async (presignature) => {
        await storePresignature(store, presignature)
        const online = await engine.sign(own(share), store, presignature.id, hash)
        return mapResult(online, (signature) => ({
          r: hex(signature.r),
          s: hex(signature.s),
          v: signature.recovery === 1 ? 1 : 0,
        }))
      })
    },
    describe: (share) => ({
      publicKey: hex(ecdsaPublicKey(own(share))),
      chainCode: hex(ecdsaChainCode(own(share))),
    }),
  }
}

function eddsaSuite(engine: EddsaEngine): AlgorithmSuite {
  const own = (share: KeyShare) => share as EddsaKeyShare
  return {
    keygen: (options) => engine.keygen(options as KeygenOptions<EddsaKeyShare>),
    async signing(share, path, session, message, store) {
      const presign = await engine.presign(own(share), path, session)
      return new PhasedParty(presign, async (presignature) => {
        await storePresignature(store, presignature)
        return mapResult(await engine.sign(own(share), store, presignature.id, message), hex)
      })
    },
    describe: (share) => ({
      publicKey: hex(eddsaPublicKey(own(share))),
      chainCode: hex(own(share).chainCode),
    }),
  }
}

export function algorithmSuites(engines: Engines): Readonly<Record<SigningAlgorithm, AlgorithmSuite>> {
  return {
    MPC_ECDSA_SECP256K1: ecdsaSuite(engines.ecdsa),
    MPC_EDDSA_ED25519: eddsaSuite(engines.eddsa),
  }
}

/** The same party with its result converted (to the wire form of a signature). */
function mapResult<R, S>(party: RoundParty<R>, convert: (result: R) => S): RoundParty<S> {
  const map = async (step: ReturnType<RoundParty<R>['start']>) => {
    const done = await step
    return done.finished ? { ...done, result: convert(done.result) } : done
  }
  return {
    self: party.self,
    senders: (round) => party.senders(round),
    start: () => map(party.start()),
    receive: (round, inbound) => map(party.receive(round, inbound)),
  }
}
