/**
 * The workspace hub. (Started by the chain-formats branch only so that the error catalogue test finds
 * CHAIN_ERRORS; the hub's own exports join this list.)
 */
export { CHAIN_ERRORS } from './chains/index.js'
