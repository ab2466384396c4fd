/** Wall-clock fields of an instant in an IANA time zone, as CEL sees them in `time.*`. */
export interface ZonedTime {
  readonly hour: bigint
  readonly minute: bigint
  /** 0 = Sunday … 6 = Saturday. */
  readonly weekday: bigint
  /** `YYYY-MM-DD` in that zone. */
  readonly date: string
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone)
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      weekday: 'short',
    })
    formatters.set(timeZone, format)
  }
  return format
}

export function zonedTime(instant: Date, timeZone: string): ZonedTime {
  const parts: Record<string, string> = {}
  for (const part of formatter(timeZone).formatToParts(instant)) parts[part.type] = part.value
  return {
    hour: BigInt(Number(parts.hour)),
    minute: BigInt(Number(parts.minute)),
    weekday: BigInt(WEEKDAYS.indexOf(parts.weekday ?? '')),
    date: `${parts.year}-${parts.month}-${parts.day}`,
  }
}
