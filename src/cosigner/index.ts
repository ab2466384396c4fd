/**
 * The co-signer daemon: paired with an API user through a single-use pairing token, it polls the hub over
 * the co-signer link and takes its share of every signature that API user's requests need.
 */
export { COSIGNER_ERRORS, AlreadyPaired, NotPaired, type CosignerErrorCode } from './errors.js'
export { pairCosigner, readPairing, type Pairing } from './pairing.js'
export { startCosigner, type RunningCosigner } from './start.js'
