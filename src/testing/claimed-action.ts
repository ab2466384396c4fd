import { extractCompactToken } from '../protocol/index.js'

/**
 * The action an answer *claims*, read without verifying anything (any casing of the `action` key, JWT or
 * JSON). Attack checks use it: a handler that tries to approve a forgery fails even if its own answer is
 * unsigned or malformed.
 */
export function claimedAction(body: string): string | undefined {
  const claims = decodeUnverified(body)
  if (typeof claims !== 'object' || claims === null) return undefined
  const entry = Object.entries(claims).find(([key]) => key.toLowerCase() === 'action')
  return typeof entry?.[1] === 'string' ? entry[1].toUpperCase() : undefined
}

function decodeUnverified(body: string): unknown {
  const text = extractCompactToken(body)
  try {
    const parts = text.split('.')
    return JSON.parse(parts.length === 3 ? Buffer.from(parts[1]!, 'base64url').toString('utf8') : text)
  } catch {
    return undefined
  }
}
