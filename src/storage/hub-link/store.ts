import type { Clock } from '../../core/index.js'
import { tables, type StorageDatabase } from '../database/index.js'
import type { HubLinkTables } from './schema.js'
import {
  finishJob,
  insertJob,
  readJob,
  readJobBySession,
  readJobsOfTransaction,
  type LinkJob,
  type LinkJobOutcome,
  type NewLinkJob,
} from './jobs.js'
import { acknowledge, postMessages, readMailbox, type MailboxEntry, type OutgoingMessage } from './mailbox.js'
import {
  consumePairingToken,
  enrol,
  leaveParty,
  listParties,
  lookupRefreshHash,
  readParty,
  revokeRefreshToken,
  touchParty,
  type Enrolment,
  type LinkParty,
  type RefreshLookup,
} from './parties.js'

/**
 * The hub's side of the co-signer link, durably: the enrolled parties and their refresh tokens (hashed),
 * single-use pairing tokens, each party's mailbox, and the jobs whose sessions the hub relays. Every
 * guarantee holds across replicas sharing one PostgreSQL schema. Run `HUB_LINK_MIGRATIONS` first.
 */
export class HubLinkStore {
  readonly #database: StorageDatabase
  readonly #clock: Clock

  constructor(database: StorageDatabase, clock: Clock) {
    this.#database = database
    this.#clock = clock
  }

  /**
   * Enrols a party with a pairing token: the token's `jti` is consumed in the transaction that stores the
   * refresh token, so a second use fails everywhere, even after a crash between the two. False when the
   * token was used before (nothing is written then).
   */
  pair(jti: string, enrolment: Enrolment): Promise<boolean> {
    return this.#database.write(async ({ db }) => {
      const now = this.#clock.now()
      if (!(await consumePairingToken(db, jti, enrolment.name, now))) return false
      await enrol(db, enrolment, now)
      return true
    })
  }

  /** Enrols a party without a pairing token (the cloud co-signers, at `hub init`). */
  enrol(enrolment: Enrolment): Promise<void> {
    return this.#database.write(({ db }) => enrol(db, enrolment, this.#clock.now()))
  }

  /** Revokes the party's refresh token; false when it had none. */
  revoke(name: string): Promise<boolean> {
    return this.#database.write(({ db }) => revokeRefreshToken(db, name, this.#clock.now()))
  }

  party(name: string): Promise<LinkParty | undefined> {
    return this.#database.read((db) => readParty(db, name))
  }

  parties(): Promise<LinkParty[]> {
    return this.#database.read(listParties)
  }

  refreshLookup(hash: string): Promise<RefreshLookup> {
    return this.#database.read((db) => lookupRefreshHash(db, hash))
  }

  /** Records that the party was seen now (its heartbeat). */
  touch(name: string, instance: string | null = null): Promise<void> {
    return this.#database.write(({ db }) => touchParty(db, name, this.#clock.now(), instance))
  }

  /** Records that the party said it stops (closed its WebSocket with 1000). */
  leave(name: string): Promise<void> {
    return this.#database.write(({ db }) => leaveParty(db, name, this.#clock.now()))
  }

  post(messages: readonly OutgoingMessage[]): Promise<number[]> {
    return this.#database.write(({ db }) => postMessages(db, messages, this.#clock.now()))
  }

  mailbox(party: string, after: number, limit: number): Promise<MailboxEntry[]> {
    return this.#database.read((db) => readMailbox(db, party, after, limit))
  }

  /** Deletes the party's messages up to `cursor`; returns how many. */
  ack(party: string, cursor: number): Promise<number> {
    return this.#database.write(({ db }) => acknowledge(db, party, cursor))
  }

  /** Records the job and posts its messages, in one transaction. */
  createJob(job: NewLinkJob, messages: readonly OutgoingMessage[]): Promise<LinkJob> {
    return this.#database.write(async ({ db }) => {
      const now = this.#clock.now()
      const created = await insertJob(db, job, now)
      await postMessages(db, messages, now)
      return created
    })
  }

  job(id: string): Promise<LinkJob | undefined> {
    return this.#database.read((db) => readJob(db, id))
  }

  /** A transaction's jobs, each with its creation and last update (its finish, once finished) time. */
  jobsOfTransaction(txId: string): Promise<LinkJob[]> {
    return this.#database.read((db) => readJobsOfTransaction(db, txId))
  }

  jobBySession(session: string): Promise<LinkJob | undefined> {
    return this.#database.read((db) => readJobBySession(db, session))
  }

  /**
   * Finishes a pending job (the first outcome wins, on every replica) and, only if this call finished it,
   * posts `messages` in the same transaction. False when the job was already finished or does not exist.
   */
  finishJob(
    id: string,
    outcome: LinkJobOutcome,
    result: Record<string, unknown>,
    messages: readonly OutgoingMessage[] = [],
  ): Promise<boolean> {
    return this.#database.write(async ({ db }) => {
      const now = this.#clock.now()
      if (!(await finishJob(db, id, outcome, result, now))) return false
      await postMessages(db, messages, now)
      return true
    })
  }

  /**
   * Records `holder`'s successful report on a job that needs every holder's (once per holder; a repeat is
   * ignored) and returns all reports so far, so the caller finishes the job once each holder reported.
   */
  reportJob(id: string, holder: string, result: Record<string, unknown>): Promise<Record<string, unknown>[]> {
    return this.#database.write(async ({ db }) => {
      const typed = tables<HubLinkTables>(db)
      await typed
        .insertInto('hub_link_job_reports')
        .values({ job_id: id, holder, result_json: JSON.stringify(result), at: this.#clock.now() })
        .onConflict((conflict) => conflict.doNothing())
        .execute()
      const rows = await typed
        .selectFrom('hub_link_job_reports')
        .select('result_json')
        .where('job_id', '=', id)
        .orderBy('holder')
        .execute()
      return rows.map((row) => JSON.parse(row.result_json) as Record<string, unknown>)
    })
  }
}
