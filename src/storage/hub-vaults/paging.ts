/**
 * Keyset paging over one numeric key, both ways: a page holds the rows after (or before) a cursor in the
 * caller's order, and says whether more rows lie on either side, so the hub can omit the cursor of a side
 * that has nothing.
 */
export type SortOrder = 'ASC' | 'DESC'

/** The key of the row a page starts after, or ends before, in the requested order. */
export type PageCursor = { readonly after: number } | { readonly before: number }

export interface PageRequest {
  readonly order: SortOrder
  readonly limit: number
  readonly cursor?: PageCursor
}

export interface Page<T> {
  readonly items: readonly T[]
  readonly hasBefore: boolean
  readonly hasAfter: boolean
}

/** Rows whose key is strictly beyond `from` (all rows without it), sorted by key, at most `limit`. */
export type FetchRows<T> = (
  from: { readonly op: '>' | '<'; readonly key: number } | undefined,
  sort: 'asc' | 'desc',
  limit: number,
) => Promise<T[]>

const ASCENDING = { op: '>', sort: 'asc' } as const
const DESCENDING = { op: '<', sort: 'desc' } as const

export async function keysetPage<T>(
  request: PageRequest,
  keyOf: (row: T) => number,
  fetch: FetchRows<T>,
): Promise<Page<T>> {
  const forward = request.order === 'ASC' ? ASCENDING : DESCENDING
  const backward = request.order === 'ASC' ? DESCENDING : ASCENDING
  const cursor = request.cursor
  const goingBack = cursor !== undefined && 'before' in cursor
  const run = goingBack ? backward : forward
  const from =
    cursor === undefined ? undefined : { op: run.op, key: 'before' in cursor ? cursor.before : cursor.after }
  const rows = await fetch(from, run.sort, request.limit)
  const items = goingBack ? rows.reverse() : rows
  const first = items[0]
  const last = items.at(-1)
  if (first === undefined || last === undefined) return { items, hasBefore: false, hasAfter: false }
  const before = await fetch({ op: backward.op, key: keyOf(first) }, backward.sort, 1)
  const after = await fetch({ op: forward.op, key: keyOf(last) }, forward.sort, 1)
  return { items, hasBefore: before.length > 0, hasAfter: after.length > 0 }
}
