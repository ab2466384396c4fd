/**
 * The party side of the co-signer ↔ hub link (docs/cosigner-protocol.md): the transport (HTTP long-poll,
 * or the mailbox pushed over a WebSocket that falls back to it), verification and dedupe of the hub's
 * signed mailbox messages, the runner that turns jobs into MPC sessions and results, and a party's durable
 * local stores.
 */
export { algorithmSuites, type AlgorithmSuite, type Engines, type WireSignature } from './algorithms.js'
export { backoffDelay, DEFAULT_BACKOFF, type Backoff } from './backoff.js'
export { createLinkTransport, type LinkMode, type LinkTransportOptions } from './create-transport.js'
export { LINK_ERRORS, LinkError, type LinkErrorCode } from './errors.js'
export { FilePresignatureStore } from './file-presignature-store.js'
export { algorithmOf, FileKeyShareStore, type KeyShare, type KeyShareStore } from './key-share-store.js'
export { hubKeyFromJwk, RecentIds, verifyLinkMessage, type MessageCheck } from './messages.js'
export {
  JobCancelled,
  PartyRunner,
  type ApprovalAnswer,
  type AttemptFence,
  type Approver,
  type ConfigAnswer,
  type ConfigApprover,
  type JobDecision,
  type JobGate,
  type LinkLogger,
  type PartyRunnerOptions,
} from './party-runner.js'
export { PhasedParty } from './phased-party.js'
export {
  HttpLinkTransport,
  type HttpLinkTransportOptions,
  type LinkTransport,
  type TokenResponse,
  type WireEnvelope,
} from './transport.js'
export { WebSocketLinkTransport, type WebSocketLinkTransportOptions } from './websocket-transport.js'
