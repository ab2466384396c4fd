import pino, { type DestinationStream, type Level, type Logger } from 'pino'

/** Longest string a log field may hold: requests can put attacker-chosen text in fields. */
export const MAX_LOG_STRING = 512
const MAX_DEPTH = 4

/** A plain object or an array: what `bounded` may hand on as it is. Anything else is copied, as before. */
function isPlainContainer(value: object): boolean {
  if (Array.isArray(value)) return true
  const prototype: unknown = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}

/** Whether `value` is within every bound already, so that logging it needs no copy (the usual case). */
function withinBounds(value: unknown, depth: number): boolean {
  if (typeof value === 'string') return value.length <= MAX_LOG_STRING
  if (value === null || typeof value !== 'object') return true
  if (depth >= MAX_DEPTH || !isPlainContainer(value)) return false
  if (Array.isArray(value)) return value.length <= 32 && value.every((item) => withinBounds(item, depth + 1))
  for (const key in value)
    if (Object.hasOwn(value, key) && !withinBounds((value as Record<string, unknown>)[key], depth + 1))
      return false
  return true
}

function bounded(value: unknown, depth: number): unknown {
  if (withinBounds(value, depth)) return value
  if (typeof value === 'string')
    return `${value.slice(0, MAX_LOG_STRING)}… (${value.length - MAX_LOG_STRING} more characters)`
  if (depth >= MAX_DEPTH) return '[nested too deep]'
  if (Array.isArray(value)) return value.slice(0, 32).map((item) => bounded(item, depth + 1))
  return Object.fromEntries(
    Object.entries(value as object).map(([key, item]) => [key, bounded(item, depth + 1)]),
  )
}

export interface ServiceLoggerOptions {
  readonly service: string
  readonly level: Level | 'silent'
  readonly destination?: DestinationStream
}

/**
 * The JSON logger of a service: every line names the service and the PID, and no field can make a line
 * long: strings are cut at MAX_LOG_STRING characters, so an unauthenticated request cannot write a
 * 700 KB line (or fill a disk) through a header the handler logs.
 */
export function createServiceLogger(options: ServiceLoggerOptions): Logger {
  const settings = {
    level: options.level,
    base: { service: options.service, pid: process.pid },
    formatters: { log: (fields: Record<string, unknown>) => bounded(fields, 0) as Record<string, unknown> },
  }
  return options.destination ? pino(settings, options.destination) : pino(settings)
}
