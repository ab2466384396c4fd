import { sha256Hex, systemClock, type Clock } from '../../core/index.js'
import { appendEvents, readAudit, verifyChain, type AuditEntry } from '../audit/chain.js'
import { AUDIT_MIGRATIONS } from '../audit/schema.js'
import { openDatabase } from '../database/open.js'
import { LockRank, tables, type WriteSession } from '../database/types.js'
import { StoreConflict } from '../errors.js'
import { guarded } from '../handler-store.js'
import { migrate } from '../migrations.js'
import { CLOUD_LOG_MIGRATIONS, type CloudLogTables } from './schema.js'

/** One entry of a verified authorization that a cloud co-signer is about to act on, with the job that asks. */
export interface AuthorizedSigning {
  readonly job: string
  readonly txId: string
  readonly attempt: number
  readonly algorithm: string
  readonly signer: string
  readonly ruleId: string | null
  readonly content: string
  readonly path: readonly number[]
  readonly session: string
  /** The compact JWS itself: the evidence of what the hub asked for. */
  readonly authorization: string
}

/** A signature the cloud co-signer completed: the evidence that each message is signed once. */
export interface CompletedSignature {
  readonly job: string
  readonly txId: string
  readonly attempt: number
  readonly algorithm: string
  readonly content: string
}

export type RecordOutcome =
  | { readonly recorded: true; readonly entry: AuditEntry }
  | { readonly recorded: false; readonly reason: string }

/** The cloud co-signer's own append-only, hash-chained log, and the single-use rules it records under. */
export interface CloudLog {
  /**
   * Records `signing` in one transaction: refused (nothing written) when another authorization of the same
   * (txId, attempt) was used, the session was used, or the content was signed under another transaction or
   * already under this attempt. Only a recorded signing may be joined.
   */
  record(signing: AuthorizedSigning): Promise<RecordOutcome>
  /** Appends a `cloud-signature` entry for a signature this co-signer completed. */
  recordSignature(signature: CompletedSignature): Promise<AuditEntry>
  readLog(sinceMs?: number): AsyncGenerator<AuditEntry>
  verifyLog(): ReturnType<typeof verifyChain>
  close(): Promise<void>
}

/** Opens `sqlite:PATH` or `postgres://...` and applies the audit chain's and the cloud log's migrations. */
export async function openCloudLog(url: string, options: { clock?: Clock } = {}): Promise<CloudLog> {
  const clock = options.clock ?? systemClock
  const db = await guarded('open', () => Promise.resolve(openDatabase(url)))
  try {
    await guarded('migration', () => migrate(db, [...AUDIT_MIGRATIONS, ...CLOUD_LOG_MIGRATIONS], clock.now()))
  } catch (error) {
    await db.close()
    throw error
  }
  const read = <T>(work: Parameters<typeof db.read<T>>[0]) => db.read(work)
  return {
    async record(signing) {
      try {
        const entry = await guarded('write', () =>
          db.write((session) => recordSigning(session, signing, clock.now())),
        )
        return { recorded: true, entry }
      } catch (error) {
        if (error instanceof StoreConflict) return { recorded: false, reason: error.message }
        throw error
      }
    },
    recordSignature: (signature) =>
      guarded('write', () =>
        db.write(async (session) => {
          const [entry] = await appendEvents(session, [
            {
              event: 'cloud-signature',
              requestId: signature.txId,
              at: clock.now(),
              body: { ...signature, contentHash: contentHashOf(signature) },
            },
          ])
          return entry as AuditEntry
        }),
      ),
    readLog: (sinceMs) => readAudit(read, sinceMs),
    verifyLog: () => guarded('read', () => verifyChain(read)),
    close: () => db.close(),
  }
}

const contentHashOf = (signed: { readonly algorithm: string; readonly content: string }) =>
  sha256Hex(`${signed.algorithm}|${signed.content}`)

/** The checks read first (for a reason that names the rule); the unique keys are the guarantee. */
async function recordSigning(
  session: WriteSession,
  signing: AuthorizedSigning,
  now: number,
): Promise<AuditEntry> {
  const db = tables<CloudLogTables>(session.db)
  const { txId, attempt } = signing
  const authorizationHash = sha256Hex(signing.authorization)
  const contentHash = contentHashOf(signing)

  // A later attempt of the transaction was authorized: the hub handed it on, this one may not start.
  await session.lock([{ rank: LockRank.request, key: `cloud-tx\u0000${txId}` }])
  const latest = await db
    .selectFrom('cloud_authorizations')
    .select((eb) => eb.fn.max('attempt').as('attempt'))
    .where('tx_id', '=', txId)
    .executeTakeFirst()
  if (latest?.attempt != null && Number(latest.attempt) > attempt)
    throw new StoreConflict(
      `attempt ${attempt} of transaction ${txId} was superseded by attempt ${Number(latest.attempt)}`,
    )

  await db
    .insertInto('cloud_authorizations')
    .values({ tx_id: txId, attempt, authorization_hash: authorizationHash, recorded_at: now })
    .onConflict((conflict) => conflict.columns(['tx_id', 'attempt']).doNothing())
    .execute()
  const used = await db
    .selectFrom('cloud_authorizations')
    .select('authorization_hash')
    .where('tx_id', '=', txId)
    .where('attempt', '=', attempt)
    .executeTakeFirstOrThrow()
  if (used.authorization_hash !== authorizationHash)
    throw new StoreConflict(
      `another authorization of transaction ${txId} attempt ${attempt} was used already`,
    )

  const sessionUse = await db
    .selectFrom('cloud_sessions')
    .select('job')
    .where('session', '=', signing.session)
    .executeTakeFirst()
  if (sessionUse !== undefined)
    throw new StoreConflict(
      `session ${signing.session} of transaction ${txId} attempt ${attempt} was used already (job ${sessionUse.job})`,
    )
  await db
    .insertInto('cloud_sessions')
    .values({ session: signing.session, tx_id: txId, attempt, job: signing.job })
    .execute()

  await db
    .insertInto('cloud_contents')
    .values({ content_hash: contentHash, tx_id: txId })
    .onConflict((conflict) => conflict.column('content_hash').doNothing())
    .execute()
  const owner = await db
    .selectFrom('cloud_contents')
    .select('tx_id')
    .where('content_hash', '=', contentHash)
    .executeTakeFirstOrThrow()
  if (owner.tx_id !== txId)
    throw new StoreConflict(`this content was signed before under another transaction (${owner.tx_id})`)
  const twice = await db
    .selectFrom('cloud_content_uses')
    .select('tx_id')
    .where('content_hash', '=', contentHash)
    .where('tx_id', '=', txId)
    .where('attempt', '=', attempt)
    .executeTakeFirst()
  if (twice !== undefined)
    throw new StoreConflict(`this content is signed once per attempt: attempt ${attempt} signed it already`)
  await db
    .insertInto('cloud_content_uses')
    .values({ content_hash: contentHash, tx_id: txId, attempt })
    .execute()

  const [entry] = await appendEvents(session, [
    {
      event: 'cloud-authorization',
      requestId: txId,
      at: now,
      body: { ...signing, path: [...signing.path], authorizationHash },
    },
  ])
  return entry as AuditEntry
}
