/**
 * The wire contracts of the API co-signer callback protocol, shared by every Countersign component:
 * payload schemas, request kinds and actions, the RS256 JWT codec, route paths and typed errors.
 */
export { Action, ACTIONS, RequestKind, REQUEST_KINDS, isActionAllowed } from './actions.js'
export {
  JwtAlgorithmNotAllowed,
  JwtMalformed,
  JwtSignatureInvalid,
  KeyUnsupported,
  PayloadInvalid,
  PROTOCOL_ERRORS,
} from './errors.js'
export type { ProtocolErrorCode } from './errors.js'
export { Identifier, MAX_IDENTIFIER_LENGTH, identifierProblem, recordableJson } from './identifier.js'
export type { Recordable } from './identifier.js'
export { CALLBACK_ROUTES, callbackPath, normalizeBasePath, HEALTH_PATHS } from './paths.js'
export type { AuthMode, CallbackRoute } from './paths.js'
export {
  TxRequestSchema,
  DestinationSchema,
  RawTxSchema,
  DecimalString,
  txRequestKind,
  parseCapturedRule,
} from './tx-request.js'
export type { TxRequest, TxDestination } from './tx-request.js'
export {
  CONFIG_CHANGE_TYPES,
  ConfigChangeRequestSchema,
  EXTRA_INFO_SCHEMAS,
} from './config-change-request.js'
export type { ConfigChangeRequest, ConfigChangeType } from './config-change-request.js'
export { CallbackResponseSchema } from './response.js'
export type { CallbackResponse } from './response.js'
export { parseTxRequest, parseConfigChangeRequest, parseCallbackRequest, readRequestId } from './validate.js'
export type { CallbackRequest } from './validate.js'
export { importRsaPublicKey, importRsaPrivateKey, MIN_RSA_BITS } from './keys.js'
export {
  verifyRs256,
  extractCompactToken,
  signCallbackRequest,
  signCallbackResponse,
  verifyCallbackResponse,
} from './jwt.js'
export type { VerifiedJwt } from './jwt.js'
export {
  ACCESS_TOKEN_SECONDS,
  ApproveBodySchema,
  AckFrameSchema,
  AUTHORIZATION_TYPE,
  AuthorizationSchema,
  CallbackHandlerSchema,
  ConfigBodySchema,
  NO_CALLBACK_HANDLER,
  EcdsaSignatureSchema,
  EnvelopesRequestSchema,
  KeygenBodySchema,
  LINK_CLOSE_CODES,
  LINK_MAX_FRAME_BYTES,
  LINK_MESSAGE_TYPE,
  LINK_PATH_PREFIX,
  LINK_STREAM_PATH,
  LinkMessageSchema,
  MailboxResponseSchema,
  MAX_LONG_POLL_SECONDS,
  MpcBodySchema,
  PAIRING_TOKEN_SECONDS,
  PairRequestSchema,
  PairResponseSchema,
  ResultRequestSchema,
  SIGNING_ALGORITHMS,
  SignBodySchema,
  StreamFrameSchema,
  TokenRequestSchema,
  TokenResponseSchema,
} from './link.js'
export type {
  ApproveBody,
  AckFrame,
  Authorization,
  CallbackHandlerWire,
  ConfigBody,
  EcdsaSignatureWire,
  EnvelopesRequest,
  KeygenBody,
  LinkMessage,
  MailboxResponse,
  MpcBody,
  PairRequest,
  PairResponse,
  ResultRequest,
  SignBody,
  SigningAlgorithm,
  StreamFrame,
} from './link.js'
