/**
 * What every module may use: the error base class and code catalogues, the clock, the parsers of
 * durations, instants and sizes, hashing, RFC 8785 canonical JSON, the formatters of zod and errno
 * errors, and the atomic, durable file write. Imports nothing of the project.
 */
export {
  CountersignError,
  defineErrorCodes,
  CORE_ERRORS,
  DurationInvalid,
  InstantInvalid,
  NotJson,
  SizeInvalid,
} from './errors.js'
export type { CoreErrorCode, ErrorCatalogue, ErrorCodeInfo } from './errors.js'
export { systemClock } from './clock.js'
export type { Clock, Timer } from './clock.js'
export { ManualClock } from './manual-clock.js'
export { DURATION_PATTERN, formatDuration, isDuration, parseDuration } from './duration.js'
export { parseInstant, parseSince } from './instant.js'
export { parseSize } from './size.js'
export { sha256Hex } from './hash.js'
export { assertJsonData, canonicalJson } from './canonical-json.js'
export { isWellFormedText } from './text.js'
export { formatIssuePath, formatZodIssues } from './format-zod-issues.js'
export type { IssueLike } from './format-zod-issues.js'
export { describeFileError, errnoCode } from './errno.js'
export { syncDirectory, writeFileAtomically } from './write-file-atomically.js'
export type { AtomicWriteOptions } from './write-file-atomically.js'
