/**
 * The policy engine (./engine: YAML diagnostics, CEL, linear-time matches, first-match rules and their
 * trace) and its two instances: the callback policy (guards, a rule list per request kind, velocity
 * windows, human quorums, cases and replay) and the hub's transaction policy (./transaction). Pure:
 * velocity history and votes come in as data, time as input.
 */
export {
  compilePolicy,
  loadPolicyCases,
  loadPolicyFile,
  lintPolicy,
  readRequestPayload,
} from './load-policy-file.js'
export type { PolicyReport } from './load-policy-file.js'
export type { CompiledPolicy, PolicyDecision, PolicyInput } from './evaluate-policy.js'
export type { QuorumRequirement } from './program.js'
export { decideNow, prepareDecision, ZERO_FIGURES } from './decide.js'
export { amountUsdCents } from './request-context.js'
export { readVelocityWindows } from './velocity-limits.js'
export type { WindowDeclaration, WindowLimit } from './velocity-limits.js'
export type { PreparedDecision } from './decide.js'
export type { VelocityFigures, VelocityProbe, VelocitySnapshot } from './velocity.js'
export type { ConditionTrace, DecisionTrace, TraceValue, VelocityTrace } from './trace.js'
export { resolveHold } from './resolve-hold.js'
export type { HoldResolution, Vote } from './resolve-hold.js'
export {
  PolicyCasesInvalid,
  PolicyEvaluationError,
  PolicyInvalid,
  formatDiagnostic,
  POLICY_ERRORS,
} from './errors.js'
export type { PolicyDiagnostic, PolicyErrorCode } from './errors.js'
export { MAX_HOLD_TTL_MS } from './compile-policy.js'
export { PolicyFileSchema } from './policy-schema.js'
export { decideCase, PolicyCasesSchema, runPolicyCases } from './policy-cases.js'
export type { CaseDecision, CaseOutcome, CasesReport, PolicyCase } from './policy-cases.js'
export { compileTransactionPolicy, resolveApproval } from './transaction/transaction-policy.js'
export type {
  Approvers,
  TransactionAction,
  TransactionDecision,
  TransactionPolicy,
  TransactionPolicyResult,
} from './transaction/transaction-policy.js'
export type { DestinationAddressType, TransactionRequest } from './transaction/request.js'
export { TransactionPolicyFileSchema } from './transaction/schema.js'
