import { CountersignError, defineErrorCodes } from '../core/index.js'
import type { PolicyDiagnostic } from './engine/diagnostics.js'

/** The codes of the policy engine. */
export const POLICY_ERRORS = defineErrorCodes('policy', {
  CS_POLICY_INVALID: {
    meaning: 'a policy file does not compile; each problem is reported with its line',
    fix: 'fix the listed lines (countersign policy lint FILE shows all of them); a running handler keeps its previous policy',
  },
  CS_POLICY_EVALUATION: {
    meaning: 'a policy condition failed at evaluation time for one request',
    fix: 'check the rule named in the trace; on_error decides the answer meanwhile',
  },
  CS_POLICY_CASES_INVALID: {
    meaning: 'a policy cases file is not valid (unknown field, missing expectation, unreadable payload)',
    fix: 'fix the case named in the message; see docs/policy.md for the cases format',
  },
})

export type PolicyErrorCode = keyof typeof POLICY_ERRORS.codes

export type { PolicyDiagnostic }

/** A policy file that cannot be loaded. `diagnostics` lists every problem found, not just the first. */
export class PolicyInvalid extends CountersignError {
  readonly code = 'CS_POLICY_INVALID' satisfies PolicyErrorCode
  readonly diagnostics: readonly PolicyDiagnostic[]

  constructor(sourceName: string, diagnostics: readonly PolicyDiagnostic[]) {
    const errors = diagnostics.filter((diagnostic) => diagnostic.severity === 'error')
    const first = errors[0]
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more problem(s))` : ''
    super(
      first === undefined
        ? `policy ${sourceName} is invalid`
        : `policy ${sourceName} is invalid: ${first.line === undefined ? '' : `line ${first.line}, `}${first.path}: ${first.message}${more}`,
    )
    this.diagnostics = diagnostics
  }
}

/**
 * A request the policy cannot read at all (e.g. a USD amount beyond exact integer cents). Only
 * `velocityProbes` throws it; `evaluate` turns the same condition into a fail-closed decision.
 */
export class PolicyEvaluationError extends CountersignError {
  readonly code = 'CS_POLICY_EVALUATION' satisfies PolicyErrorCode
}

/** A `policy test` cases file that cannot be used (bad YAML, unknown fixture, malformed case). */
export class PolicyCasesInvalid extends CountersignError {
  readonly code = 'CS_POLICY_CASES_INVALID' satisfies PolicyErrorCode
}

/** `file:line: severity path: message`, the form editors and CI logs link to. */
export function formatDiagnostic(sourceName: string, diagnostic: PolicyDiagnostic): string {
  const where = diagnostic.line === undefined ? sourceName : `${sourceName}:${diagnostic.line}`
  return `${where}: ${diagnostic.severity} ${diagnostic.path}: ${diagnostic.message}`
}
