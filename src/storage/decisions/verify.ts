import { readEntriesByHash, verifyChain, type AuditVerification, type ChainAnchor } from '../audit/index.js'
import { tables, type Executor } from '../database/index.js'
import { matchesAudit } from './integrity.js'
import type { DecisionTables } from './schema.js'

const PAGE = 1_000

/**
 * Verifies the audit chain, then every decision against the entry that recorded it: a decision row edited
 * in the database (REJECT turned into APPROVE) breaks no hash of the chain, so the chain alone cannot
 * show it.
 */
export async function verifyAuditAndDecisions(
  read: <T>(work: (db: Executor) => Promise<T>) => Promise<T>,
  anchor?: ChainAnchor,
): Promise<AuditVerification> {
  const chain = await verifyChain(read, anchor)
  if (!chain.ok) return chain
  let decisions = 0
  for (let offset = 0; ; offset += PAGE) {
    const problem = await read(async (db) => {
      const rows = await tables<DecisionTables>(db)
        .selectFrom('decisions')
        .selectAll()
        .orderBy('route')
        .orderBy('request_id')
        .limit(PAGE)
        .offset(offset)
        .execute()
      const entries = await readEntriesByHash(
        db,
        rows.map((row) => row.audit_hash),
      )
      decisions += rows.length
      const broken = rows.find((row) => !matchesAudit(row, entries.get(row.audit_hash)))
      return { done: rows.length < PAGE, broken }
    })
    if (problem.broken !== undefined) {
      const { route, request_id: requestId, audit_hash: hash } = problem.broken
      return {
        ok: false,
        entries: chain.entries,
        brokenSeq: 0,
        problem: `the recorded decision of ${route} request ${JSON.stringify(requestId)} does not match its audit entry ${hash.slice(0, 12)} (the row was altered)`,
      }
    }
    if (problem.done) return { ...chain, decisions }
  }
}
