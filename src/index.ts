/**
 * `import … from 'countersign'`: the library API, a chosen list rather than every module's index. The
 * protocol's schemas and JWT codec, the keys operations, the policy engine, the production callback client
 * (the co-signer's side) and the threshold-signing engines. The handler, the storage and the CLI are run
 * through the `countersign` command, not imported.
 */
export {
  ACTIONS,
  REQUEST_KINDS,
  CONFIG_CHANGE_TYPES,
  CallbackResponseSchema,
  ConfigChangeRequestSchema,
  TxRequestSchema,
  parseCallbackRequest,
  parseConfigChangeRequest,
  parseTxRequest,
  callbackPath,
  importRsaPrivateKey,
  importRsaPublicKey,
  signCallbackRequest,
  signCallbackResponse,
  verifyCallbackResponse,
  verifyRs256,
  JwtAlgorithmNotAllowed,
  JwtMalformed,
  JwtSignatureInvalid,
  KeyUnsupported,
  PayloadInvalid,
  PROTOCOL_ERRORS,
} from './protocol/index.js'
export type {
  Action,
  AuthMode,
  CallbackRequest,
  CallbackResponse,
  CallbackRoute,
  ConfigChangeRequest,
  ConfigChangeType,
  RequestKind,
  TxDestination,
  TxRequest,
  VerifiedJwt,
} from './protocol/index.js'

export {
  API_USER_KEY_BITS,
  CALLBACK_KEY_BITS,
  checkKeyMatch,
  createCsr,
  diagnoseRequest,
  generateRsaKeyPair,
  readKeyMaterial,
  signRequest,
  spkiFingerprint,
  verifyRequest,
  InMemoryNonceStore,
  KeyEncrypted,
  KeyUnreadable,
  RequestAuthFailed,
  SubjectInvalid,
  KEYS_ERRORS,
} from './keys/index.js'
export type {
  Diagnosis,
  KeyMatch,
  KeyMaterial,
  NonceStore,
  RsaKeyPair,
  SignRequestInput,
  VerifiedRequest,
  VerifyRequestOptions,
} from './keys/index.js'

export {
  compilePolicy,
  decideNow,
  lintPolicy,
  loadPolicyFile,
  runPolicyCases,
  PolicyEvaluationError,
  PolicyInvalid,
  POLICY_ERRORS,
} from './policy/index.js'
export type { CompiledPolicy, PolicyDecision, PolicyInput, PolicyReport } from './policy/index.js'

export {
  callHandler,
  loadCallbackKeys,
  CallbackInputInvalid,
  CallbackProtocolViolation,
  CallbackTransportFailure,
  CALLBACK_CLIENT_ERRORS,
} from './callback-client/index.js'
export type { CallHandlerOptions, CallOutcome, CallResult, CallbackKeys } from './callback-client/index.js'

export {
  createDklsEcdsaEngine,
  createFrostEddsaEngine,
  MemoryPresignatureStore,
  MpcSession,
  MpcError,
  MPC_ERRORS,
} from './mpc/index.js'
export type { EcdsaEngine, EddsaEngine, PresignatureStore, ThresholdEngine } from './mpc/index.js'

export { CountersignError } from './core/index.js'
