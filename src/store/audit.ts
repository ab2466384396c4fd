import { canonicalJson, sha256Hex } from '../core/index.js'
import { insertRows } from './sql/insert-rows.js'
import type { SqlDatabase, SqlSession } from './sql/types.js'

/**
 * The append-only, hash-chained audit log. Each entry stores the hash of the previous entry and its own
 * hash over its canonical content, so editing, deleting or reordering any row breaks the chain at that row.
 * Entries hold decision facts only: never key material or the raw JWT.
 */
export type AuditEventType = 'decision' | 'replay-altered' | 'hold-resolved' | 'vote' | 'velocity-released'

export interface AuditEntry {
  readonly seq: number
  readonly at: number
  readonly event: AuditEventType
  readonly requestId: string | null
  readonly body: Record<string, unknown>
  readonly prevHash: string
  readonly hash: string
}

export const GENESIS_HASH = '0'.repeat(64)

interface AuditRow extends Record<string, unknown> {
  seq: number
  at: number
  event: string
  request_id: string | null
  body_json: string
  prev_hash: string
  hash: string
}

function hashEntry(entry: Omit<AuditEntry, 'hash'>): string {
  return sha256Hex(
    canonicalJson({
      seq: entry.seq,
      at: entry.at,
      event: entry.event,
      requestId: entry.requestId,
      body: entry.body,
      prevHash: entry.prevHash,
    }),
  )
}

export interface AuditEvent {
  readonly event: AuditEventType
  readonly requestId: string | null
  readonly body: Record<string, unknown>
  readonly at: number
}

export interface ChainHead {
  readonly seq: number
  readonly hash: string
}

/** The last entry of the chain; must be read inside `exclusive`, which keeps it the head until COMMIT. */
export async function readChainHead(session: SqlSession): Promise<ChainHead> {
  const head = await session.one<{ seq: number; hash: string }>(
    'SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1',
  )
  return head ? { seq: Number(head.seq), hash: head.hash } : { seq: 0, hash: GENESIS_HASH }
}

/** Links events onto the chain after `head`, in order. */
export function chainEvents(head: ChainHead, events: readonly AuditEvent[]): AuditEntry[] {
  const entries: AuditEntry[] = []
  let previous = head
  for (const event of events) {
    const unhashed = { ...event, seq: previous.seq + 1, prevHash: previous.hash }
    const entry = { ...unhashed, hash: hashEntry(unhashed) }
    entries.push(entry)
    previous = entry
  }
  return entries
}

export async function insertAuditEntries(session: SqlSession, entries: readonly AuditEntry[]): Promise<void> {
  await insertRows(
    session,
    'audit_log',
    ['seq', 'at', 'event', 'request_id', 'body_json', 'prev_hash', 'hash'],
    entries.map((entry) => [
      entry.seq,
      entry.at,
      entry.event,
      entry.requestId,
      canonicalJson(entry.body),
      entry.prevHash,
      entry.hash,
    ]),
  )
}

/** Appends one entry; must run inside `exclusive`. */
export async function appendAudit(
  session: SqlSession,
  event: AuditEventType,
  requestId: string | null,
  body: Record<string, unknown>,
  at: number,
): Promise<AuditEntry> {
  const [entry] = chainEvents(await readChainHead(session), [{ event, requestId, body, at }])
  await insertAuditEntries(session, [entry!])
  return entry!
}

function toEntry(row: AuditRow): AuditEntry {
  return {
    seq: Number(row.seq),
    at: Number(row.at),
    event: row.event as AuditEventType,
    requestId: row.request_id,
    body: JSON.parse(row.body_json) as Record<string, unknown>,
    prevHash: row.prev_hash,
    hash: row.hash,
  }
}

const PAGE = 1_000

/** Streams entries in chain order, from `sinceMs` when given. */
export async function* readAudit(db: SqlDatabase, sinceMs = 0): AsyncGenerator<AuditEntry> {
  let after = 0
  for (;;) {
    const rows = await db.read((session) =>
      session.all<AuditRow>('SELECT * FROM audit_log WHERE seq > ? AND at >= ? ORDER BY seq LIMIT ?', [
        after,
        sinceMs,
        PAGE,
      ]),
    )
    for (const row of rows) yield toEntry(row)
    if (rows.length < PAGE) return
    after = Number(rows.at(-1)!.seq)
  }
}

export type AuditVerification =
  | { readonly ok: true; readonly entries: number; readonly headHash: string }
  | { readonly ok: false; readonly entries: number; readonly brokenSeq: number; readonly problem: string }

/** Walks the whole chain and names the first entry that does not verify. */
export async function verifyAudit(db: SqlDatabase): Promise<AuditVerification> {
  let expectedSeq = 1
  let prevHash = GENESIS_HASH
  let count = 0
  for await (const entry of readAudit(db)) {
    count++
    const broken = (problem: string): AuditVerification => ({
      ok: false,
      entries: count,
      brokenSeq: entry.seq,
      problem,
    })
    if (entry.seq !== expectedSeq)
      return broken(`sequence gap: expected entry ${expectedSeq}, found ${entry.seq}`)
    if (entry.prevHash !== prevHash) return broken('its previous-hash does not match the entry before it')
    if (hashEntry(entry) !== entry.hash)
      return broken('its content does not match its hash (the row was altered)')
    prevHash = entry.hash
    expectedSeq++
  }
  return { ok: true, entries: count, headHash: prevHash }
}
