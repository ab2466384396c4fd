import { ConfigInvalid } from '../handler/index.js'
import { parseDuration } from '../policy/index.js'

/** `--since` as an ISO date/time or a duration back from now (`7d`, `12h`, `30m`). */
export function parseSince(text: string | undefined, now: number): number {
  if (text === undefined) return 0
  const back = parseDuration(text)
  if (back !== undefined) return now - back
  const at = Date.parse(text)
  if (Number.isNaN(at))
    throw new ConfigInvalid([`--since: "${text}" is neither an ISO date nor a duration like 7d`])
  return at
}
