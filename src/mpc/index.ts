/**
 * Threshold signing: one workspace key per algorithm, shared 3-of-3 as {cloud1, cloud2, customer} per
 * customer co-signer, that no party ever holds. Knows nothing of transport or storage: callers move
 * `Envelope`s and keep sealed state. See docs/mpc.md.
 */
export { decode, encode } from './codec.js'
export { createDklsEcdsaEngine, type EcdsaEngine } from './ecdsa-engine.js'
export { ecdsaChainCode, ecdsaPublicKey, type EcdsaKeyShare } from './ecdsa-key-share.js'
export type { EcdsaPresignature, EcdsaSignature } from './dkls-sign.js'
export { dklsGeneration } from './dkls-wasm.js'
export { createFrostEddsaEngine, type EddsaEngine } from './eddsa-engine.js'
export {
  deriveEddsaPublic,
  eddsaPublicKey,
  type EddsaKeyShare,
  type EddsaPublicNode,
} from './frost-key-share.js'
export type { EddsaPresignature } from './frost-sign.js'
export { generatePartyKeys, newSessionId, SessionChannel, type Envelope, type PartyKeys } from './envelope.js'
export { MPC_ERRORS, MpcError, type MpcErrorCode } from './errors.js'
export type { KeygenOptions } from './keygen-options.js'
export { MemoryPresignatureStore, storePresignature, type PresignatureStore } from './presignature-store.js'
export type { RoundParty, RoundStep } from './round-party.js'
export { MpcSession } from './session.js'
export { presignatureId, type ThresholdEngine } from './threshold-engine.js'
export { assertThreeOfThree, CLOUD1, CLOUD2, holdersOf, type Holders } from './topology.js'
