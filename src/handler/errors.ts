import { CountersignError } from '../protocol/index.js'

/** A configuration problem, named by its key path with the fix. Start-up refuses to continue. */
export class ConfigInvalid extends CountersignError {
  readonly code = 'CS_CONFIG_INVALID'
  readonly problems: readonly string[]

  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`)
    this.problems = problems
  }
}
