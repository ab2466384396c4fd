/**
 * The co-signer's side of the callback protocol: `callHandler` calls a handler exactly as a co-signer
 * does (the future co-signer daemon uses it), fixture builders make realistic payloads, and
 * `runConformance` grades any handler, ours or not, by URL and keys (JWT mode) or URL and TLS pin alone.
 */
export { callHandler, CALLBACK_DEFAULTS } from './call-handler.js'
export type { CallHandlerOptions, CallOutcome, CallResult, Exchange } from './call-handler.js'
export {
  CallbackInputInvalid,
  CallbackProtocolViolation,
  CallbackTransportFailure,
  CALLBACK_CLIENT_ERRORS,
} from './errors.js'
export type { CallbackClientErrorCode } from './errors.js'
export {
  FIXTURE_NAMES,
  buildFixture,
  configChangePayload,
  configFixtureName,
  multiDestinationPayload,
} from './fixtures.js'
export type { BuiltFixture, FixtureOptions } from './fixtures.js'
export { normalizeSpkiPin } from './spki-pin.js'
export { loadCallbackKeys } from './load-callback-keys.js'
export type { CallbackKeyFiles, CallbackKeys } from './load-callback-keys.js'
export { runConformance } from './run-conformance.js'
export type { CheckResult, ConformanceReport } from './run-conformance.js'
export { CONFORMANCE_CHECKS, CheckStatus } from './conformance-checks.js'
export type { ConformanceTarget } from './prober.js'
