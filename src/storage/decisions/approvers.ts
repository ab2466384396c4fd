import { appendEvents } from '../audit/index.js'
import { LockRank, tables, type Executor, type WriteSession } from '../database/index.js'
import { NotFound, StoreConflict } from '../errors.js'
import type { ApprovalTables } from './votes-schema.js'

/** A person who may vote on held requests, known by the public key their votes must verify with. */
export interface Approver {
  readonly id: string
  /** SPKI PEM. */
  readonly publicKey: string
  /** SHA-256 of the SPKI PEM, as `countersign keys fingerprint` prints it. */
  readonly fingerprint: string
  readonly addedAt: Date
}

export interface ApproverInput {
  readonly id: string
  readonly publicKey: string
  readonly fingerprint: string
}

/** Serialises changes to the approver list. */
const APPROVERS_LOCK = { rank: LockRank.request, key: 'approvers' } as const

type ApproverRow = ApprovalTables['approvers']

function toApprover(row: ApproverRow): Approver {
  return {
    id: row.id,
    publicKey: row.public_key,
    fingerprint: row.fingerprint,
    addedAt: new Date(Number(row.added_at)),
  }
}

export async function listApprovers(db: Executor): Promise<Approver[]> {
  const rows = await tables<ApprovalTables>(db).selectFrom('approvers').selectAll().orderBy('id').execute()
  return rows.map(toApprover)
}

export async function findApprover(db: Executor, id: string): Promise<Approver | undefined> {
  const row = await tables<ApprovalTables>(db)
    .selectFrom('approvers')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst()
  return row && toApprover(row)
}

/** Registers an approver's public key, audited; an id or a key already registered is refused. */
export async function addApprover(
  session: WriteSession,
  input: ApproverInput,
  now: number,
): Promise<Approver> {
  await session.lock([APPROVERS_LOCK])
  const db = tables<ApprovalTables>(session.db)
  const existing = await db
    .selectFrom('approvers')
    .select(['id', 'fingerprint'])
    .where((where) => where.or([where('id', '=', input.id), where('fingerprint', '=', input.fingerprint)]))
    .executeTakeFirst()
  if (existing?.id === input.id)
    throw new StoreConflict(
      `approver ${JSON.stringify(input.id)} is already registered: remove them first (countersign approvers remove) to change their key`,
    )
  if (existing !== undefined)
    throw new StoreConflict(
      `this key (sha256 ${input.fingerprint}) is already registered to ${JSON.stringify(existing.id)}: each approver needs a key of their own`,
    )
  const row = { id: input.id, public_key: input.publicKey, fingerprint: input.fingerprint, added_at: now }
  await db.insertInto('approvers').values(row).execute()
  await appendEvents(session, [
    {
      event: 'approver-added',
      requestId: null,
      at: now,
      body: { approver: input.id, fingerprint: input.fingerprint, publicKey: input.publicKey },
    },
  ])
  return toApprover(row)
}

/** Unregisters an approver, audited: the votes they cast stop counting on requests still held. */
export async function removeApprover(session: WriteSession, id: string, now: number): Promise<Approver> {
  await session.lock([APPROVERS_LOCK])
  const approver = await findApprover(session.db, id)
  if (approver === undefined)
    throw new NotFound(`no approver ${JSON.stringify(id)} is registered (countersign approvers list)`)
  await tables<ApprovalTables>(session.db).deleteFrom('approvers').where('id', '=', id).execute()
  await appendEvents(session, [
    {
      event: 'approver-removed',
      requestId: null,
      at: now,
      body: { approver: id, fingerprint: approver.fingerprint },
    },
  ])
  return approver
}
