import { CountersignError, defineErrorCodes } from '../core/index.js'

/** The codes the service shell raises: configuration and start-up failures, each with its fix. */
export const SERVICE_ERRORS = defineErrorCodes('service', {
  CS_CONFIG_INVALID: {
    meaning: 'the configuration file has problems; each is listed with its key, line and fix',
    fix: 'fix every listed key and start again',
  },
  CS_SERVICE_PORT_IN_USE: {
    meaning: 'another process already listens on the configured address and port',
    fix: 'stop that process or choose another port (`listen:` or --listen)',
  },
  CS_SERVICE_LISTEN_FAILED: {
    meaning: 'the server could not listen on the configured address',
    fix: 'use an address of this machine and a port the service may bind',
  },
  CS_SERVICE_TLS_MISMATCH: {
    meaning: "the TLS private key is not the key of the TLS certificate's public key",
    fix: 'give the key the certificate was issued for (tls.key) or the certificate of that key (tls.cert)',
  },
  CS_SERVICE_STORE_MISSING: {
    meaning:
      'a command that reads an existing store was given one that does not exist (it never creates one)',
    fix: "give the handler's store: --store sqlite:PATH of its database, or --config FILE of the handler",
  },
  CS_SERVICE_STORE_OPEN: {
    meaning: 'the store (SQLite file or PostgreSQL database) could not be opened',
    fix: 'follow the cause printed with it: create the folder, fix permissions, start PostgreSQL, rebuild the native module',
  },
})
type ServiceErrorCode = keyof typeof SERVICE_ERRORS.codes

/** One problem of a configuration, named by its key path, with the fix and, from a file, where it is. */
export interface ConfigProblem {
  /** Dotted key path (`apiUsers.0.handlerKey`); empty for the document itself. */
  readonly path: string
  readonly message: string
  readonly fix?: string
  readonly file?: string
  readonly line?: number
  readonly column?: number
}

/** `file:line:col key: message; fix`, the way compilers print a diagnostic. */
export function renderProblem(problem: ConfigProblem): string {
  const where =
    problem.file === undefined
      ? ''
      : `${problem.file}${problem.line === undefined ? '' : `:${problem.line}:${problem.column ?? 1}`} `
  const key = problem.path === '' ? '' : `${problem.path}: `
  return `${where}${key}${problem.message}${problem.fix ? `; ${problem.fix}` : ''}`
}

/** A configuration with problems, all of them listed at once. Start-up refuses to continue. */
export class ConfigInvalid extends CountersignError {
  readonly code = 'CS_CONFIG_INVALID' satisfies ServiceErrorCode
  /** Each problem rendered on one line (`file:line:col key: message; fix`). */
  readonly problems: readonly string[]
  readonly details: readonly ConfigProblem[]

  constructor(problems: readonly (ConfigProblem | string)[]) {
    const details = problems.map((problem) =>
      typeof problem === 'string' ? { path: '', message: problem } : problem,
    )
    const lines = details.map(renderProblem)
    super(`invalid configuration:\n  - ${lines.join('\n  - ')}`)
    this.problems = lines
    this.details = details
  }
}

/** Start-up failed for a cause the operator can fix; the message is the one line to print. */
export class StartupFailed extends CountersignError {
  readonly code: ServiceErrorCode

  constructor(code: ServiceErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
  }
}
