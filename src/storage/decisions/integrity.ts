import type { AuditEntry } from '../audit/index.js'
import type { DecisionTables } from './schema.js'

type DecisionRow = DecisionTables['decisions']

/** The fields of a decision that its audit entry records, so a row edited in the database is recognised. */
export function bindingOf(
  row: Pick<DecisionRow, 'route' | 'action' | 'reason' | 'payload_digest' | 'status'>,
) {
  return {
    route: row.route,
    action: row.action,
    reason: row.reason,
    payloadDigest: row.payload_digest,
    held: row.status === 'held',
  }
}

/** Whether `entry` (already checked against its own hash) is the one that recorded `row` as it is now. */
export function matchesAudit(row: DecisionRow, entry: AuditEntry | undefined): boolean {
  if (entry === undefined || entry.requestId !== row.request_id) return false
  if (entry.event !== 'decision' && entry.event !== 'hold-resolved') return false
  const binding = bindingOf(row)
  return (Object.keys(binding) as (keyof typeof binding)[]).every(
    (field) => entry.body[field] === binding[field],
  )
}
