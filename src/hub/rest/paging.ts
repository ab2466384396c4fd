import { API_CODES, HubApiError } from './api-error.js'

/**
 * Cursors of the transaction list (hub-api.md §5.4): opaque to callers, a position (created_at, id) in the
 * list's order. The `next-page` / `prev-page` headers carry a full URL containing `/v1/transactions?…`,
 * because the legacy SDK slices the header from `/v1/` and requests the rest.
 */
export interface Position {
  readonly createdAt: number
  readonly id: string
}

export function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.id])).toString('base64url')
}

export function decodeCursor(cursor: string | undefined): Position | undefined {
  if (cursor === undefined) return undefined
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as unknown[]
    if (typeof createdAt === 'number' && typeof id === 'string') return { createdAt, id }
  } catch {
    // Falls through to the refusal below.
  }
  throw new HubApiError(400, API_CODES.validation, 'the page cursor is not one this hub returned')
}

interface RequestLike {
  readonly url: string
  readonly protocol: string
  readonly host: string
}

/** The URL of the page before or after this one: the same query, with the cursor in place of the old one. */
export function pageUrl(request: RequestLike, key: 'next' | 'prev', cursor: string): string {
  const url = new URL(request.url, `${request.protocol}://${request.host}`)
  url.searchParams.delete('next')
  url.searchParams.delete('prev')
  url.searchParams.set(key, cursor)
  return url.toString()
}
