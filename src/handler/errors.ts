import { CountersignError, defineErrorCodes } from '../core/index.js'

/** The codes of the callback handler service. */
export const HANDLER_ERRORS = defineErrorCodes('handler', {
  CS_CONFIG_INVALID: {
    meaning: 'a configuration file, option or command-line value is invalid; every problem is listed',
    fix: 'fix each listed key or option as the message says',
  },
})

export type HandlerErrorCode = keyof typeof HANDLER_ERRORS.codes

/** A configuration problem, named by its key path with the fix. Start-up refuses to continue. */
export class ConfigInvalid extends CountersignError {
  readonly code = 'CS_CONFIG_INVALID' satisfies HandlerErrorCode
  readonly problems: readonly string[]

  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`)
    this.problems = problems
  }
}
