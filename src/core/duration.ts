import { DurationInvalid } from './errors.js'

/**
 * Durations are written the way operators say them: `500ms`, `30s`, `5m`, `24h`, `7d`, in policy files,
 * configuration and options alike. One unit per value keeps them unambiguous in review (no `1h30m`; write
 * `90m`).
 */
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

/** For schemas that check the shape before `parseDuration` reads the value. */
export const DURATION_PATTERN = /^([1-9]\d{0,8})(ms|s|m|h|d)$/

/**
 * Milliseconds of a duration literal; throws `DurationInvalid` naming the text, the option or key it came
 * from (`label`, e.g. `--timeout`) and the accepted form.
 */
export function parseDuration(text: string, label?: string): number {
  const match = DURATION_PATTERN.exec(text)
  if (match === null) throw new DurationInvalid(text, label)
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]
}

/** Whether `text` is a duration literal. */
export function isDuration(text: string): boolean {
  return DURATION_PATTERN.test(text)
}

/** The shortest exact literal for `ms` (e.g. 3_000_000 → `50m`), for messages. */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    if (ms >= UNIT_MS[unit] && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`
  }
  return `${ms}ms`
}
