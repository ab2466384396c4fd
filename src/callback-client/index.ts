/**
 * The co-signer's side of the callback protocol, as a production co-signer daemon imports it: `callHandler`
 * signs a request, calls a handler, verifies its answer (RS256 by the registered handler key, or JSON over
 * a pinned TLS connection) and follows RETRY. No fixtures, no forgeries, no conformance suite: those live
 * in `src/testing`, which builds on the lower-level pieces exported here.
 */
export { callHandler, CALLBACK_DEFAULTS } from './call-handler.js'
export type { CallHandlerOptions, CallOutcome, CallResult, Exchange } from './call-handler.js'
export type { RetrySchedule, RetryScheduleStore } from './retry-schedule.js'
export {
  CallbackInputInvalid,
  CallbackProtocolViolation,
  CallbackTransportFailure,
  CALLBACK_CLIENT_ERRORS,
} from './errors.js'
export type { CallbackClientErrorCode } from './errors.js'
export { handlerUrl } from './handler-url.js'
export { postCallback } from './post-callback.js'
export type { HttpReply, PostOptions } from './post-callback.js'
export { readReply } from './read-reply.js'
export type { ReadReply, ReplyStage } from './read-reply.js'
export { normalizeSpkiPin } from './spki-pin.js'
export { loadCallbackKeys } from './load-callback-keys.js'
export type { CallbackKeyFiles, CallbackKeys } from './load-callback-keys.js'
