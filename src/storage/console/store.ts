import { sha256Hex, type Clock } from '../../core/index.js'
import { appendEvents } from '../audit/index.js'
import { tables, type Executor, type StorageDatabase, type WriteSession } from '../database/index.js'
import { NotFound, StoreConflict } from '../errors.js'
import type { ConsoleTables } from './schema.js'

/** A passkey enrolled for a principal (an approver on the handler). */
export interface ConsoleCredential {
  readonly credentialId: string
  readonly principal: string
  readonly publicKeyCose: string
  readonly publicKeyPem: string
  readonly signCount: number
  readonly transports: readonly string[]
  readonly createdAt: Date
}

export type NewCredential = Omit<ConsoleCredential, 'createdAt'>

export interface NewChallenge {
  readonly id: string
  readonly purpose: string
  readonly principal: string | null
  readonly challenge: string
  /** What the challenge is about, kept with it so the answer is checked against what was asked. */
  readonly context: unknown
  readonly ttlMs: number
}

export interface ConsoleChallenge extends Omit<NewChallenge, 'ttlMs'> {
  readonly expiresAt: number
}

export interface ConsoleSession {
  readonly principal: string
  readonly expiresAt: number
}

/**
 * The consoles' store: enrolment tokens, passkeys, challenges and sessions. Tokens and challenges are
 * single-use across restarts and replicas (taken with one DELETE ... RETURNING); enrolments, sign-ins and
 * sign-outs are audited in the same transaction.
 */
export interface ConsoleStore {
  /** Issues a single-use enrolment token for `principal`, valid `ttlMs`. */
  issueEnrolment(principal: string, token: string, ttlMs: number): Promise<void>
  /** Whom an unexpired, unused token enrols, without using it. */
  enrolmentPrincipal(token: string): Promise<string | undefined>
  /** Uses the token and enrols the passkey for its principal in one transaction; a used token is refused. */
  enrol(token: string, credential: NewCredential): Promise<ConsoleCredential>
  credential(credentialId: string): Promise<ConsoleCredential | undefined>
  credentialsOf(principal: string): Promise<ConsoleCredential[]>
  /**
   * Records the authenticator's signature counter after an assertion. It only rises: of two assertions
   * verified at once, the lower counter recorded last would let a cloned authenticator pass the next check.
   */
  recordUse(credentialId: string, signCount: number): Promise<void>
  saveChallenge(challenge: NewChallenge): Promise<void>
  /** The challenge, removed: a second take (on any replica, after any restart) finds nothing. */
  takeChallenge(id: string, purpose: string): Promise<ConsoleChallenge | undefined>
  openSession(token: string, principal: string, credentialId: string, ttlMs: number): Promise<void>
  session(token: string): Promise<ConsoleSession | undefined>
  closeSession(token: string): Promise<void>
}

type CredentialRow = ConsoleTables['console_credentials']

function toCredential(row: CredentialRow): ConsoleCredential {
  return {
    credentialId: row.credential_id,
    principal: row.principal,
    publicKeyCose: row.public_key_cose,
    publicKeyPem: row.public_key_pem,
    signCount: Number(row.sign_count),
    transports: JSON.parse(row.transports) as string[],
    createdAt: new Date(Number(row.created_at)),
  }
}

const hashOf = (token: string) => sha256Hex(token)

/** Drops what has expired; run on writes, so the tables stay as small as what is live. */
async function purgeExpired(db: Executor, now: number): Promise<void> {
  const typed = tables<ConsoleTables>(db)
  await typed.deleteFrom('console_challenges').where('expires_at', '<', now).execute()
  await typed.deleteFrom('console_sessions').where('expires_at', '<', now).execute()
  await typed.deleteFrom('console_enrolments').where('expires_at', '<', now).execute()
}

async function enrolWith(session: WriteSession, token: string, credential: NewCredential, now: number) {
  const typed = tables<ConsoleTables>(session.db)
  const used = await typed
    .deleteFrom('console_enrolments')
    .where('token_hash', '=', hashOf(token))
    .where('expires_at', '>=', now)
    .returningAll()
    .executeTakeFirst()
  if (used === undefined || used.principal !== credential.principal)
    throw new NotFound('this enrolment link is used, expired or unknown: ask for a new one')
  const existing = await typed
    .selectFrom('console_credentials')
    .select('credential_id')
    .where('credential_id', '=', credential.credentialId)
    .executeTakeFirst()
  if (existing !== undefined) throw new StoreConflict('this passkey is already enrolled')
  const row = {
    credential_id: credential.credentialId,
    principal: credential.principal,
    public_key_cose: credential.publicKeyCose,
    public_key_pem: credential.publicKeyPem,
    sign_count: credential.signCount,
    transports: JSON.stringify(credential.transports),
    created_at: now,
  }
  await typed.insertInto('console_credentials').values(row).execute()
  await appendEvents(session, [
    {
      event: 'console-passkey-enrolled',
      requestId: null,
      at: now,
      body: {
        principal: credential.principal,
        credentialId: credential.credentialId,
        publicKey: row.public_key_pem,
      },
    },
  ])
  return toCredential(row)
}

/** The console capability over `database` (run `CONSOLE_MIGRATIONS` on it first). */
export function consoleStore(database: StorageDatabase, clock: Clock): ConsoleStore {
  return {
    issueEnrolment: (principal, token, ttlMs) =>
      database.write(async (session) => {
        const now = clock.now()
        await purgeExpired(session.db, now)
        const row = { token_hash: hashOf(token), principal, created_at: now, expires_at: now + ttlMs }
        await tables<ConsoleTables>(session.db).insertInto('console_enrolments').values(row).execute()
        await appendEvents(session, [
          {
            event: 'console-enrolment-issued',
            requestId: null,
            at: now,
            body: { principal, expiresAt: row.expires_at },
          },
        ])
      }),

    enrolmentPrincipal: (token) =>
      database.read(async (db) => {
        const row = await tables<ConsoleTables>(db)
          .selectFrom('console_enrolments')
          .select('principal')
          .where('token_hash', '=', hashOf(token))
          .where('expires_at', '>=', clock.now())
          .executeTakeFirst()
        return row?.principal
      }),

    enrol: (token, credential) =>
      database.write((session) => enrolWith(session, token, credential, clock.now())),

    credential: (credentialId) =>
      database.read(async (db) => {
        const row = await tables<ConsoleTables>(db)
          .selectFrom('console_credentials')
          .selectAll()
          .where('credential_id', '=', credentialId)
          .executeTakeFirst()
        return row && toCredential(row)
      }),

    credentialsOf: (principal) =>
      database.read(async (db) => {
        const rows = await tables<ConsoleTables>(db)
          .selectFrom('console_credentials')
          .selectAll()
          .where('principal', '=', principal)
          .orderBy('created_at')
          .execute()
        return rows.map(toCredential)
      }),

    recordUse: (credentialId, signCount) =>
      database.write(async ({ db }) => {
        await tables<ConsoleTables>(db)
          .updateTable('console_credentials')
          .set({ sign_count: signCount })
          .where('credential_id', '=', credentialId)
          .where('sign_count', '<', signCount)
          .execute()
      }),

    saveChallenge: (challenge) =>
      database.write(async ({ db }) => {
        const now = clock.now()
        await purgeExpired(db, now)
        await tables<ConsoleTables>(db)
          .insertInto('console_challenges')
          .values({
            id: challenge.id,
            purpose: challenge.purpose,
            principal: challenge.principal,
            challenge: challenge.challenge,
            context_json: JSON.stringify(challenge.context ?? null),
            expires_at: now + challenge.ttlMs,
          })
          .execute()
      }),

    takeChallenge: (id, purpose) =>
      database.write(async ({ db }) => {
        const row = await tables<ConsoleTables>(db)
          .deleteFrom('console_challenges')
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirst()
        if (row === undefined || row.purpose !== purpose || Number(row.expires_at) < clock.now())
          return undefined
        return {
          id: row.id,
          purpose: row.purpose,
          principal: row.principal,
          challenge: row.challenge,
          context: JSON.parse(row.context_json) as unknown,
          expiresAt: Number(row.expires_at),
        }
      }),

    openSession: (token, principal, credentialId, ttlMs) =>
      database.write(async (session) => {
        const now = clock.now()
        await purgeExpired(session.db, now)
        await tables<ConsoleTables>(session.db)
          .insertInto('console_sessions')
          .values({ token_hash: hashOf(token), principal, created_at: now, expires_at: now + ttlMs })
          .execute()
        await appendEvents(session, [
          { event: 'console-sign-in', requestId: null, at: now, body: { principal, credentialId } },
        ])
      }),

    session: (token) =>
      database.read(async (db) => {
        const row = await tables<ConsoleTables>(db)
          .selectFrom('console_sessions')
          .select(['principal', 'expires_at'])
          .where('token_hash', '=', hashOf(token))
          .where('expires_at', '>=', clock.now())
          .executeTakeFirst()
        return row && { principal: row.principal, expiresAt: Number(row.expires_at) }
      }),

    closeSession: (token) =>
      database.write(async (session) => {
        const row = await tables<ConsoleTables>(session.db)
          .deleteFrom('console_sessions')
          .where('token_hash', '=', hashOf(token))
          .returning('principal')
          .executeTakeFirst()
        if (row === undefined) return
        await appendEvents(session, [
          { event: 'console-sign-out', requestId: null, at: clock.now(), body: { principal: row.principal } },
        ])
      }),
  }
}

/** The public key (SPKI PEM) of `principal`'s passkey `credentialId`, read inside another transaction. */
export async function credentialKeyOf(
  db: Executor,
  principal: string,
  credentialId: string,
): Promise<string | undefined> {
  const row = await tables<ConsoleTables>(db)
    .selectFrom('console_credentials')
    .select('public_key_pem')
    .where('credential_id', '=', credentialId)
    .where('principal', '=', principal)
    .executeTakeFirst()
  return row?.public_key_pem
}
