import { sql } from 'kysely'
import { systemClock, type Clock } from '../../core/index.js'
import {
  appendEvents,
  readAudit,
  verifyChain,
  type AuditEntry,
  type CosignerAuditEventType,
} from '../audit/chain.js'
import { AUDIT_MIGRATIONS } from '../audit/schema.js'
import { openDatabase } from '../database/open.js'
import { tables, type Executor, type StorageDatabase } from '../database/types.js'
import { RecordRefused } from '../errors.js'
import { guarded } from '../handler-store.js'
import { migrate } from '../migrations.js'
import { COSIGNER_STORE_MIGRATIONS, type CosignerStoreTables } from './schema.js'

/** A pairing as the co-signer keeps it; its party key and refresh token are sealed secrets beside it. */
export interface CosignerPairing {
  /** The API user's id: the party name on the link. */
  readonly party: string
  readonly hubUrl: string
  readonly cosignerId: string
  readonly hubKey: Record<string, unknown>
  readonly name: string | null
  /** The callback handler set locally for this API user (JSON the co-signer module defines). */
  readonly callback: Record<string, unknown> | null
  readonly pairedAt: number
}

/** An `approve` job the co-signer received: pending until its callback handler's answer is recorded. */
export interface CosignerApproval {
  readonly job: string
  readonly party: string
  readonly txId: string
  readonly attempt: number
  readonly requestId: string
  readonly body: Record<string, unknown>
  readonly outcome: 'done' | 'declined' | 'failed' | null
  readonly reason: string | null
}

export type CosignerAuditEvent = CosignerAuditEventType

/** The co-signer's database: pairings, approvals, RETRY series, sealed secrets, and its hash-chained audit. */
export interface CosignerStore {
  savePairing(pairing: CosignerPairing, secrets: readonly SealedSecret[]): Promise<void>
  pairings(): Promise<CosignerPairing[]>
  setCallback(party: string, callback: Record<string, unknown> | null): Promise<boolean>
  renamePairing(party: string, name: string): Promise<boolean>
  /** Removes the pairing and every secret whose id starts with `<party>/`. */
  removePairing(party: string): Promise<boolean>

  /** Records a received approval once (by job id); false when it was already recorded. */
  receiveApproval(approval: Omit<CosignerApproval, 'outcome' | 'reason'>): Promise<boolean>
  pendingApprovals(party: string): Promise<CosignerApproval[]>
  decideApproval(job: string, outcome: 'done' | 'declined' | 'failed', reason: string | null): Promise<void>
  approvalOf(party: string, txId: string, attempt: number): Promise<CosignerApproval | undefined>

  loadRetrySeries(requestId: string): Promise<Record<string, unknown> | undefined>
  saveRetrySeries(requestId: string, schedule: Record<string, unknown>): Promise<void>
  deleteRetrySeries(requestId: string): Promise<void>

  putSecret(secret: SealedSecret): Promise<void>
  getSecret(kind: string, id: string): Promise<Uint8Array | undefined>
  /** Single use: marks the secret used and returns it, in one durable write; undefined when used or absent. */
  takeSecret(kind: string, id: string): Promise<Uint8Array | undefined>
  /** True when `kind`/`id` was ever stored (used or not). */
  hasSecret(kind: string, id: string): Promise<boolean>

  audit(event: CosignerAuditEvent, requestId: string | null, body: Record<string, unknown>): Promise<void>
  readAudit(sinceMs?: number): AsyncGenerator<AuditEntry>
  verifyAudit(): ReturnType<typeof verifyChain>
  /** A consistent copy of the whole database into a new file (SQLite `VACUUM INTO`): secrets stay sealed. */
  backupTo(path: string): Promise<void>
  close(): Promise<void>
}

export interface SealedSecret {
  readonly kind: string
  readonly id: string
  /** Already sealed by the caller: this layer never sees a secret in clear. */
  readonly sealed: Uint8Array
}

type PairingRow = CosignerStoreTables['cosigner_pairings']
type ApprovalRow = CosignerStoreTables['cosigner_approvals']

const toPairing = (row: PairingRow): CosignerPairing => ({
  party: row.party,
  hubUrl: row.hub_url,
  cosignerId: row.cosigner_id,
  hubKey: JSON.parse(row.hub_key_json) as Record<string, unknown>,
  name: row.name,
  callback: row.callback_json === null ? null : (JSON.parse(row.callback_json) as Record<string, unknown>),
  pairedAt: Number(row.paired_at),
})

const toApproval = (row: ApprovalRow): CosignerApproval => ({
  job: row.job,
  party: row.party,
  txId: row.tx_id,
  attempt: Number(row.attempt),
  requestId: row.request_id,
  body: JSON.parse(row.body_json) as Record<string, unknown>,
  outcome: row.outcome as CosignerApproval['outcome'],
  reason: row.reason,
})

const bytes = (base64: string): Uint8Array => new Uint8Array(Buffer.from(base64, 'base64'))
const text = (sealed: Uint8Array): string => Buffer.from(sealed).toString('base64')

/** Opens `sqlite:PATH` (or a PostgreSQL URL) with the audit chain's and the co-signer's migrations. */
export async function openCosignerStore(
  url: string,
  options: { clock?: Clock } = {},
): Promise<CosignerStore> {
  const clock = options.clock ?? systemClock
  const db = await guarded('open', () => Promise.resolve(openDatabase(url)))
  try {
    await guarded('migration', () =>
      migrate(db, [...AUDIT_MIGRATIONS, ...COSIGNER_STORE_MIGRATIONS], clock.now()),
    )
  } catch (error) {
    await db.close()
    throw error
  }
  return new SqlCosignerStore(db, clock)
}

class SqlCosignerStore implements CosignerStore {
  readonly #db: StorageDatabase
  readonly #clock: Clock

  constructor(db: StorageDatabase, clock: Clock) {
    this.#db = db
    this.#clock = clock
  }

  #read<T>(work: (db: Executor) => Promise<T>): Promise<T> {
    return guarded('read', () => this.#db.read(work))
  }

  #write<T>(work: (db: Executor) => Promise<T>): Promise<T> {
    return guarded('write', () => this.#db.write(({ db }) => work(db)))
  }

  savePairing(pairing: CosignerPairing, secrets: readonly SealedSecret[]): Promise<void> {
    const row: PairingRow = {
      party: pairing.party,
      hub_url: pairing.hubUrl,
      cosigner_id: pairing.cosignerId,
      hub_key_json: JSON.stringify(pairing.hubKey),
      name: pairing.name,
      callback_json: pairing.callback === null ? null : JSON.stringify(pairing.callback),
      paired_at: pairing.pairedAt,
    }
    return this.#write(async (db) => {
      const t = tables<CosignerStoreTables>(db)
      await t
        .insertInto('cosigner_pairings')
        .values(row)
        .onConflict((conflict) => conflict.column('party').doUpdateSet(row))
        .execute()
      for (const secret of secrets) await upsertSecret(db, secret, this.#clock.now())
    })
  }

  async pairings(): Promise<CosignerPairing[]> {
    const rows = await this.#read((db) =>
      tables<CosignerStoreTables>(db)
        .selectFrom('cosigner_pairings')
        .selectAll()
        .orderBy('paired_at')
        .execute(),
    )
    return rows.map(toPairing)
  }

  setCallback(party: string, callback: Record<string, unknown> | null): Promise<boolean> {
    return this.#updatePairing(party, { callback_json: callback === null ? null : JSON.stringify(callback) })
  }

  renamePairing(party: string, name: string): Promise<boolean> {
    return this.#updatePairing(party, { name })
  }

  async #updatePairing(party: string, set: Partial<PairingRow>): Promise<boolean> {
    const result = await this.#write((db) =>
      tables<CosignerStoreTables>(db)
        .updateTable('cosigner_pairings')
        .set(set)
        .where('party', '=', party)
        .executeTakeFirst(),
    )
    return Number(result.numUpdatedRows) > 0
  }

  removePairing(party: string): Promise<boolean> {
    return this.#write(async (db) => {
      const t = tables<CosignerStoreTables>(db)
      const removed = await t.deleteFrom('cosigner_pairings').where('party', '=', party).executeTakeFirst()
      // A prefix compared as text, not a LIKE pattern: `_` and `%` in a party's name match only themselves.
      const prefix = `${party}/`
      await t
        .deleteFrom('cosigner_secrets')
        .where(sql<string>`substr(id, 1, ${prefix.length})`, '=', prefix)
        .execute()
      return Number(removed.numDeletedRows) > 0
    })
  }

  async receiveApproval(approval: Omit<CosignerApproval, 'outcome' | 'reason'>): Promise<boolean> {
    const row: ApprovalRow = {
      job: approval.job,
      party: approval.party,
      tx_id: approval.txId,
      attempt: approval.attempt,
      request_id: approval.requestId,
      body_json: JSON.stringify(approval.body),
      outcome: null,
      reason: null,
      received_at: this.#clock.now(),
      decided_at: null,
    }
    const inserted = await this.#write((db) =>
      tables<CosignerStoreTables>(db)
        .insertInto('cosigner_approvals')
        .values(row)
        .onConflict((conflict) => conflict.doNothing())
        .executeTakeFirst(),
    )
    return Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0
  }

  async pendingApprovals(party: string): Promise<CosignerApproval[]> {
    const rows = await this.#read((db) =>
      tables<CosignerStoreTables>(db)
        .selectFrom('cosigner_approvals')
        .selectAll()
        .where('party', '=', party)
        .where('outcome', 'is', null)
        .orderBy('received_at')
        .execute(),
    )
    return rows.map(toApproval)
  }

  async decideApproval(
    job: string,
    outcome: 'done' | 'declined' | 'failed',
    reason: string | null,
  ): Promise<void> {
    await this.#write((db) =>
      tables<CosignerStoreTables>(db)
        .updateTable('cosigner_approvals')
        .set({ outcome, reason, decided_at: this.#clock.now() })
        .where('job', '=', job)
        .where('outcome', 'is', null)
        .execute(),
    )
  }

  async approvalOf(party: string, txId: string, attempt: number): Promise<CosignerApproval | undefined> {
    const row = await this.#read((db) =>
      tables<CosignerStoreTables>(db)
        .selectFrom('cosigner_approvals')
        .selectAll()
        .where('party', '=', party)
        .where('tx_id', '=', txId)
        .where('attempt', '=', attempt)
        .executeTakeFirst(),
    )
    return row === undefined ? undefined : toApproval(row)
  }

  async loadRetrySeries(requestId: string): Promise<Record<string, unknown> | undefined> {
    const row = await this.#read((db) =>
      tables<CosignerStoreTables>(db)
        .selectFrom('cosigner_retry_series')
        .select('schedule_json')
        .where('request_id', '=', requestId)
        .executeTakeFirst(),
    )
    return row === undefined ? undefined : (JSON.parse(row.schedule_json) as Record<string, unknown>)
  }

  async saveRetrySeries(requestId: string, schedule: Record<string, unknown>): Promise<void> {
    const row = {
      request_id: requestId,
      schedule_json: JSON.stringify(schedule),
      saved_at: this.#clock.now(),
    }
    await this.#write((db) =>
      tables<CosignerStoreTables>(db)
        .insertInto('cosigner_retry_series')
        .values(row)
        .onConflict((conflict) => conflict.column('request_id').doUpdateSet(row))
        .execute(),
    )
  }

  async deleteRetrySeries(requestId: string): Promise<void> {
    await this.#write((db) =>
      tables<CosignerStoreTables>(db)
        .deleteFrom('cosigner_retry_series')
        .where('request_id', '=', requestId)
        .execute(),
    )
  }

  async putSecret(secret: SealedSecret): Promise<void> {
    await this.#write((db) => upsertSecret(db, secret, this.#clock.now()))
  }

  async getSecret(kind: string, id: string): Promise<Uint8Array | undefined> {
    const row = await this.#read((db) =>
      tables<CosignerStoreTables>(db)
        .selectFrom('cosigner_secrets')
        .select(['sealed_b64', 'used_at'])
        .where('kind', '=', kind)
        .where('id', '=', id)
        .executeTakeFirst(),
    )
    return row === undefined || row.used_at !== null ? undefined : bytes(row.sealed_b64)
  }

  takeSecret(kind: string, id: string): Promise<Uint8Array | undefined> {
    return this.#write(async (db) => {
      const t = tables<CosignerStoreTables>(db)
      const row = await t
        .selectFrom('cosigner_secrets')
        .select(['sealed_b64', 'used_at'])
        .where('kind', '=', kind)
        .where('id', '=', id)
        .executeTakeFirst()
      if (row === undefined || row.used_at !== null) return undefined
      // The mark commits (synchronous=FULL) before the caller sees the secret: used once, even across a crash.
      await t
        .updateTable('cosigner_secrets')
        .set({ used_at: this.#clock.now(), sealed_b64: '' })
        .where('kind', '=', kind)
        .where('id', '=', id)
        .execute()
      return bytes(row.sealed_b64)
    })
  }

  async hasSecret(kind: string, id: string): Promise<boolean> {
    const row = await this.#read((db) =>
      tables<CosignerStoreTables>(db)
        .selectFrom('cosigner_secrets')
        .select('kind')
        .where('kind', '=', kind)
        .where('id', '=', id)
        .executeTakeFirst(),
    )
    return row !== undefined
  }

  async audit(
    event: CosignerAuditEvent,
    requestId: string | null,
    body: Record<string, unknown>,
  ): Promise<void> {
    const at = this.#clock.now()
    await guarded('write', () =>
      this.#db.write((session) => appendEvents(session, [{ event, requestId, body, at }])),
    )
  }

  readAudit(sinceMs?: number): AsyncGenerator<AuditEntry> {
    return readAudit((work) => this.#read(work), sinceMs)
  }

  verifyAudit(): ReturnType<typeof verifyChain> {
    return verifyChain((work) => this.#read(work))
  }

  async backupTo(path: string): Promise<void> {
    if (this.#db.dialect !== 'sqlite')
      throw new RecordRefused('a co-signer on PostgreSQL is backed up with the database server’s own tools')
    await guarded('read', () => this.#db.read((db) => sql`VACUUM INTO ${path}`.execute(db)))
  }

  close(): Promise<void> {
    return this.#db.close()
  }
}

/** A secret once marked used is never stored again under its id (a pre-signature is single-use for ever). */
async function upsertSecret(db: Executor, secret: SealedSecret, now: number): Promise<void> {
  const t = tables<CosignerStoreTables>(db)
  const existing = await t
    .selectFrom('cosigner_secrets')
    .select('used_at')
    .where('kind', '=', secret.kind)
    .where('id', '=', secret.id)
    .executeTakeFirst()
  if (existing !== undefined && existing.used_at !== null)
    throw new RecordRefused(`${secret.kind} ${secret.id} was used once and cannot be stored again`)
  const row = {
    kind: secret.kind,
    id: secret.id,
    sealed_b64: text(secret.sealed),
    used_at: null,
    stored_at: now,
  }
  await t
    .insertInto('cosigner_secrets')
    .values(row)
    .onConflict((conflict) =>
      conflict.columns(['kind', 'id']).doUpdateSet({ sealed_b64: row.sealed_b64, stored_at: now }),
    )
    .execute()
}
