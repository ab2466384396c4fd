import { sql } from 'kysely'
import { canonicalJson, sha256Hex } from '../../core/index.js'
import { chunked } from '../database/index.js'
import { LockRank, tables, type Executor, type WriteSession } from '../database/index.js'
import type { AuditTables } from './schema.js'

/**
 * The append-only, hash-chained audit log. Each entry stores the hash of the previous entry and its own
 * hash over its canonical content, so editing, deleting or reordering any row breaks the chain at that row.
 * Entries hold decision facts only: never key material or the raw JWT.
 */
export type AuditEventType =
  | 'decision'
  | 'replay-altered'
  | 'hold-resolved'
  | 'vote'
  | 'velocity-released'
  | 'integrity-alert'
  | 'approver-added'
  | 'approver-removed'
  /** The consoles' sign-in and passkey events (src/storage/console). */
  | 'console-enrolment-issued'
  | 'console-passkey-enrolled'
  | 'console-sign-in'
  | 'console-sign-out'
  /** A cloud co-signer's record of an authorization it acts on (src/storage/cloud-log). */
  | 'cloud-authorization'
  /** ... and of a signature it completed (one per message hash, the evidence of failover's fencing). */
  | 'cloud-signature'
  | HubAuditEventType
  | CosignerAuditEventType

/** A customer co-signer's events (src/storage/cosigner-store). */
export type CosignerAuditEventType =
  | 'cosigner-paired'
  | 'cosigner-unpaired'
  | 'cosigner-callback-set'
  | 'cosigner-approval-received'
  | 'cosigner-approval-decided'
  | 'cosigner-signature'

/** The hub's events: every state-changing API call, policy match, status change, vote and signature. */
export type HubAuditEventType =
  | 'api-call'
  | 'transaction-created'
  | 'transaction-status'
  | 'transaction-vote'
  | 'policy-match'
  | 'signature'
  | 'policy-draft-proposed'
  | 'policy-draft-submitted'
  | 'policy-draft-approved'
  | 'policy-draft-rejected'
  | 'policy-published'
  | 'policy-bootstrap'
  /** A workspace console user added or given a role (`countersign hub console-link`). */
  | 'console-user-set'
  /** A state-changing action in the workspace console, by whom, in which role, and its outcome. */
  | 'console-action'

export interface AuditEntry {
  readonly seq: number
  readonly at: number
  readonly event: AuditEventType
  readonly requestId: string | null
  readonly body: Record<string, unknown>
  readonly prevHash: string
  readonly hash: string
}

export interface AuditEvent {
  readonly event: AuditEventType
  readonly requestId: string | null
  readonly body: Record<string, unknown>
  readonly at: number
}

export const GENESIS_HASH = '0'.repeat(64)

type AuditRow = AuditTables['audit_log']

export function hashEntry(entry: Omit<AuditEntry, 'hash'>): string {
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

export function toEntry(row: AuditRow): AuditEntry {
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

/**
 * Links `events` onto the chain and writes them. Takes the chain-head lock (the last lock of any
 * transaction), so call it once, at the end of the transaction's work; returns the entries, whose hashes
 * the caller may record (a decision names the entry that recorded it).
 */
export async function appendEvents(
  session: WriteSession,
  events: readonly AuditEvent[],
): Promise<AuditEntry[]> {
  if (events.length === 0) return []
  await session.lock([{ rank: LockRank.auditHead, key: 'audit' }])
  const db = tables<AuditTables>(session.db)
  const head = await db
    .selectFrom('audit_log')
    .select(['seq', 'hash'])
    .orderBy('seq', 'desc')
    // A literal: SQLite prepares a statement again at every run when its LIMIT is a bound parameter.
    .limit(sql.lit(1))
    .executeTakeFirst()
  let previous = head ? { seq: Number(head.seq), hash: head.hash } : { seq: 0, hash: GENESIS_HASH }
  const entries: AuditEntry[] = []
  for (const event of events) {
    const unhashed = { ...event, seq: previous.seq + 1, prevHash: previous.hash }
    const entry = { ...unhashed, hash: hashEntry(unhashed) }
    entries.push(entry)
    previous = entry
  }
  for (const chunk of chunked(entries, 7)) {
    await db
      .insertInto('audit_log')
      .values(
        chunk.map((entry) => ({
          seq: entry.seq,
          at: entry.at,
          event: entry.event,
          request_id: entry.requestId,
          body_json: canonicalJson(entry.body),
          prev_hash: entry.prevHash,
          hash: entry.hash,
        })),
      )
      .execute()
  }
  return entries
}

/** The entries with these hashes, keyed by hash (only those whose content still matches their hash). */
export async function readEntriesByHash(
  db: Executor,
  hashes: readonly string[],
): Promise<Map<string, AuditEntry>> {
  const found = new Map<string, AuditEntry>()
  for (const chunk of chunked([...new Set(hashes)], 1)) {
    if (chunk.length === 0) continue
    const rows = await tables<AuditTables>(db)
      .selectFrom('audit_log')
      .selectAll()
      .where('hash', 'in', chunk)
      .execute()
    for (const row of rows) {
      const entry = toEntry(row)
      if (hashEntry(entry) === entry.hash) found.set(entry.hash, entry)
    }
  }
  return found
}

const PAGE = 1_000

/** Streams entries in chain order, from `sinceMs` when given. */
export async function* readAudit(read: <T>(work: (db: Executor) => Promise<T>) => Promise<T>, sinceMs = 0) {
  let after = 0
  for (;;) {
    const rows = await read((db) =>
      tables<AuditTables>(db)
        .selectFrom('audit_log')
        .selectAll()
        .where('seq', '>', after)
        .where('at', '>=', sinceMs)
        .orderBy('seq')
        .limit(PAGE)
        .execute(),
    )
    for (const row of rows) yield toEntry(row)
    if (rows.length < PAGE) return
    after = Number(rows.at(-1)!.seq)
  }
}

export type AuditVerification =
  | { readonly ok: true; readonly entries: number; readonly headHash: string; readonly decisions: number }
  | { readonly ok: false; readonly entries: number; readonly brokenSeq: number; readonly problem: string }

/** A position the chain must still hold: entry `entries` hashing to `headHash` (from a signed anchor). */
export interface ChainAnchor {
  readonly entries: number
  readonly headHash: string
}

/**
 * Walks the whole chain and names the first entry that does not verify. With an anchor, the chain must
 * also still hold the anchored entry with the anchored hash: a chain cut short, or rebuilt from scratch
 * (internally consistent, but not the chain that was anchored), fails.
 */
export async function verifyChain(
  read: <T>(work: (db: Executor) => Promise<T>) => Promise<T>,
  anchor?: ChainAnchor,
): Promise<{ ok: true; entries: number; headHash: string } | Extract<AuditVerification, { ok: false }>> {
  let expectedSeq = 1
  let prevHash = GENESIS_HASH
  let count = 0
  for await (const entry of readAudit(read)) {
    count++
    const broken = (problem: string) => ({
      ok: false as const,
      entries: count,
      brokenSeq: entry.seq,
      problem,
    })
    if (entry.seq !== expectedSeq)
      return broken(`sequence gap: expected entry ${expectedSeq}, found ${entry.seq}`)
    if (entry.prevHash !== prevHash) return broken('its previous-hash does not match the entry before it')
    if (hashEntry(entry) !== entry.hash)
      return broken('its content does not match its hash (the row was altered)')
    if (anchor !== undefined && entry.seq === anchor.entries && entry.hash !== anchor.headHash)
      return broken(
        `its hash is not the anchored ${anchor.headHash.slice(0, 16)}…: the chain was rewritten or rebuilt since the anchor`,
      )
    prevHash = entry.hash
    expectedSeq++
  }
  if (anchor !== undefined && count < anchor.entries)
    return {
      ok: false,
      entries: count + 1,
      brokenSeq: count + 1,
      problem: `the chain ends at entry ${count}, but the anchor names ${anchor.entries} entries: entries were removed from the end (truncated)`,
    }
  return { ok: true, entries: count, headHash: prevHash }
}
