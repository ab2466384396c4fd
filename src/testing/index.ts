/**
 * The testing kit: the one fixture corpus and the requests built from it, transaction builders, the one
 * set of hostile-token forgeries, and the conformance suite that grades any handler, ours or not, by URL
 * and keys (JWT mode) or URL and TLS pin alone. Used by the tests, `countersign simulate` and
 * `countersign conformance`; a production co-signer imports `callback-client` only.
 */
export { CONFIG_FIXTURES, FIXTURES_DIR, TX_FIXTURES, loadConfigFixture, loadTxFixture } from './corpus.js'
export type { FixtureFamily } from './corpus.js'
export {
  FIXTURE_NAMES,
  buildFixture,
  configChangePayload,
  configFixtureName,
  multiDestinationPayload,
  withFreshIds,
} from './fixtures.js'
export type { BuiltFixture, FixtureOptions } from './fixtures.js'
export { ethAddressOf, readSignedEthTransaction, unsignedEthTransfer } from './eth-transaction.js'
export type { SignedEthTransaction, UnsignedEthTransfer } from './eth-transaction.js'
export { p2pkhAddress, unsignedBtcTransfer } from './btc-transaction.js'
export type { BtcInput, BtcOutput, UnsignedBtcTransfer } from './btc-transaction.js'
export {
  alterPayload,
  b64url,
  forgeAlgNone,
  forgeEs256,
  forgeHs256WithPublicKey,
  forgePs256,
  forgeSignedByStranger,
  truncate,
} from './forgeries.js'
export { MemoryRetryScheduleStore } from './memory-retry-schedule-store.js'
export { runConformance } from './run-conformance.js'
export type { CheckResult, ConformanceReport } from './run-conformance.js'
export { CONFORMANCE_CHECKS, CheckStatus } from './conformance-checks.js'
export type { ConformanceTarget } from './prober.js'
