/** The `countersign` command, as `bin/countersign.js`, the tests and the benchmarks run it. */
export { main } from './main.js'
export { CLI_ERRORS, type CliErrorCode } from './errors.js'
