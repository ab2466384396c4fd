import { tables, type Executor } from '../database/index.js'
import { RecordRefused } from '../errors.js'
import type { HubLinkTables } from './schema.js'

export type LinkJobKind = 'keygen' | 'sign' | 'approve' | 'config'
export type LinkJobState = 'pending' | 'done' | 'declined' | 'failed'
export type LinkJobOutcome = Exclude<LinkJobState, 'pending'>

/**
 * A key generation that reshares an existing set: its `dealers` (that set's holders) take part beside the
 * job's holders, and every holder must end with the expected key and chain code (the workspace's).
 */
export interface LinkJobReshare {
  readonly dealers: readonly string[]
  /** Hex. */
  readonly expectedPublicKey: string
  /** Hex. */
  readonly expectedChainCode: string
}

export interface NewLinkJob {
  readonly id: string
  readonly kind: LinkJobKind
  readonly txId: string | null
  readonly attempt: number | null
  readonly algorithm: string
  /** The parties that run the job, in order (`cloud1`, `cloud2`, the customer's). */
  readonly holders: readonly string[]
  /** The MPC sessions the job uses: the hub relays an envelope only within one of them. */
  readonly sessions: readonly string[]
  readonly reshare?: LinkJobReshare
}

export interface LinkJob extends Omit<NewLinkJob, 'sessions' | 'reshare'> {
  readonly reshare: LinkJobReshare | null
  /** Who takes part: the holders, then a reshare's dealers that hold nothing of the new set. */
  readonly participants: readonly string[]
  readonly state: LinkJobState
  /** The outcome that finished the job, as its holder reported it (null while pending). */
  readonly result: Record<string, unknown> | null
  readonly createdAt: number
  readonly updatedAt: number
}

type JobRow = HubLinkTables['hub_link_jobs']

function toJob(row: JobRow): LinkJob {
  const holders = JSON.parse(row.holders_json) as string[]
  const reshare = row.reshare_json === null ? null : (JSON.parse(row.reshare_json) as LinkJobReshare)
  const dealersOnly = (reshare?.dealers ?? []).filter((dealer) => !holders.includes(dealer))
  return {
    id: row.id,
    kind: row.kind as LinkJobKind,
    txId: row.tx_id,
    attempt: row.attempt === null ? null : Number(row.attempt),
    algorithm: row.algorithm,
    holders,
    reshare,
    participants: [...holders, ...dealersOnly],
    state: row.state as LinkJobState,
    result: row.result_json === null ? null : (JSON.parse(row.result_json) as Record<string, unknown>),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  }
}

export async function insertJob(db: Executor, job: NewLinkJob, now: number): Promise<LinkJob> {
  const link = tables<HubLinkTables>(db)
  const row: JobRow = {
    id: job.id,
    kind: job.kind,
    tx_id: job.txId,
    attempt: job.attempt,
    algorithm: job.algorithm,
    holders_json: JSON.stringify(job.holders),
    reshare_json: job.reshare === undefined ? null : JSON.stringify(job.reshare),
    state: 'pending',
    result_json: null,
    created_at: now,
    updated_at: now,
  }
  await link.insertInto('hub_link_jobs').values(row).execute()
  for (const session of job.sessions) {
    const inserted = await link
      .insertInto('hub_link_job_sessions')
      .values({ session, job_id: job.id })
      .onConflict((conflict) => conflict.column('session').doNothing())
      .executeTakeFirst()
    // A session id names one job for ever: relaying must never mix two jobs' holders.
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0)
      throw new RecordRefused(`session ${session} already belongs to another job`)
  }
  return toJob(row)
}

export async function readJob(db: Executor, id: string): Promise<LinkJob | undefined> {
  const row = await tables<HubLinkTables>(db)
    .selectFrom('hub_link_jobs')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst()
  return row === undefined ? undefined : toJob(row)
}

/** Every job of a transaction (each attempt's approval and signatures), by creation time. */
export async function readJobsOfTransaction(db: Executor, txId: string): Promise<LinkJob[]> {
  const rows = await tables<HubLinkTables>(db)
    .selectFrom('hub_link_jobs')
    .selectAll()
    .where('tx_id', '=', txId)
    .orderBy('created_at')
    .orderBy('id')
    .execute()
  return rows.map(toJob)
}

export async function readJobBySession(db: Executor, session: string): Promise<LinkJob | undefined> {
  const row = await tables<HubLinkTables>(db)
    .selectFrom('hub_link_job_sessions')
    .innerJoin('hub_link_jobs', 'hub_link_jobs.id', 'hub_link_job_sessions.job_id')
    .selectAll('hub_link_jobs')
    .where('hub_link_job_sessions.session', '=', session)
    .executeTakeFirst()
  return row === undefined ? undefined : toJob(row)
}

/**
 * Finishes a pending job with `outcome`; false when it was already finished. The conditional UPDATE makes
 * the first outcome win on every replica: a concurrent second one waits for the first's COMMIT, then no
 * longer matches `state = 'pending'`.
 */
export async function finishJob(
  db: Executor,
  id: string,
  outcome: LinkJobOutcome,
  result: Record<string, unknown>,
  now: number,
): Promise<boolean> {
  const updated = await tables<HubLinkTables>(db)
    .updateTable('hub_link_jobs')
    .set({ state: outcome, result_json: JSON.stringify(result), updated_at: now })
    .where('id', '=', id)
    .where('state', '=', 'pending')
    .executeTakeFirst()
  return Number(updated.numUpdatedRows) === 1
}
