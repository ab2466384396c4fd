import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { testDatabases } from '../../../test/support/databases.js'
import { ManualClock, sha256Hex } from '../../core/index.js'
import { AUDIT_MIGRATIONS, readAudit } from '../audit/index.js'
import { openDatabase, tables, type StorageDatabase } from '../database/index.js'
import { NotFound, StoreConflict } from '../errors.js'
import { migrate } from '../migrations.js'
import {
  CONSOLE_MIGRATIONS,
  consoleStore,
  credentialKeyOf,
  type ConsoleStore,
  type NewCredential,
} from './index.js'
import type { ConsoleTables } from './schema.js'

const MINUTE = 60_000

const passkey = (credentialId: string, principal: string): NewCredential => ({
  credentialId,
  principal,
  publicKeyCose: `cose-of-${credentialId}`,
  publicKeyPem: `-----BEGIN PUBLIC KEY-----\n${credentialId}\n-----END PUBLIC KEY-----\n`,
  signCount: 0,
  transports: ['internal', 'hybrid'],
})

const challenge = (id: string, purpose = 'vote', ttlMs = 5 * MINUTE) => ({
  id,
  purpose,
  principal: 'alice',
  challenge: `challenge-${id}`,
  context: { facts: { requestId: 'req-1', decision: 'approve' }, nonce: `nonce-${id}` },
  ttlMs,
})

describe.each(testDatabases)('the console store on $name', (database) => {
  const opened: StorageDatabase[] = []
  let clock: ManualClock

  /** A handle on `url` with its own connections, as a second replica of the handler has. */
  async function handle(url: string): Promise<{ db: StorageDatabase; store: ConsoleStore }> {
    const db = openDatabase(url)
    opened.push(db)
    await migrate(db, [...AUDIT_MIGRATIONS, ...CONSOLE_MIGRATIONS], clock.now())
    return { db, store: consoleStore(db, clock) }
  }

  /** A handle on a new, empty database, with the clock back at the start. */
  async function fresh() {
    clock = new ManualClock(Date.UTC(2026, 10, 30, 12))
    const url = await database.freshUrl()
    return { url, ...(await handle(url)) }
  }

  afterEach(async () => {
    for (const db of opened.splice(0)) await db.close()
  })
  afterAll(() => database.dropAll())

  it('uses an enrolment token once, for its own principal, and keeps only its hash', async () => {
    const { db, store } = await fresh()
    await store.issueEnrolment('alice', 'token-alice', 15 * MINUTE)
    expect(await store.enrolmentPrincipal('token-alice')).toBe('alice')
    expect(await store.enrolmentPrincipal('token-unknown')).toBeUndefined()

    // The link for alice cannot enrol a passkey for bob, and the refusal does not use it up.
    await expect(store.enrol('token-alice', passkey('cred-bob', 'bob'))).rejects.toThrow(NotFound)
    expect(await store.enrolmentPrincipal('token-alice')).toBe('alice')

    const enrolled = await store.enrol('token-alice', passkey('cred-1', 'alice'))
    expect(enrolled).toMatchObject({ credentialId: 'cred-1', principal: 'alice', signCount: 0 })
    expect(enrolled.transports).toEqual(['internal', 'hybrid'])
    expect(enrolled.createdAt.getTime()).toBe(clock.now())
    expect(await store.enrolmentPrincipal('token-alice')).toBeUndefined()
    await expect(store.enrol('token-alice', passkey('cred-2', 'alice'))).rejects.toThrow(
      'this enrolment link is used, expired or unknown: ask for a new one',
    )
    expect(await store.credentialsOf('alice')).toHaveLength(1)

    await store.issueEnrolment('bob', 'token-bob', 15 * MINUTE)
    const rows = await db.read((reader) =>
      tables<ConsoleTables>(reader).selectFrom('console_enrolments').selectAll().execute(),
    )
    expect(rows.map((row) => row.token_hash)).toEqual([sha256Hex('token-bob')])
    expect(JSON.stringify(rows)).not.toContain('token-bob')
  })

  it('refuses a passkey enrolled already, without using the token up', async () => {
    const { store } = await fresh()
    await store.issueEnrolment('alice', 'token-1', 15 * MINUTE)
    await store.enrol('token-1', passkey('cred-1', 'alice'))
    await store.issueEnrolment('bob', 'token-2', 15 * MINUTE)
    await expect(store.enrol('token-2', passkey('cred-1', 'bob'))).rejects.toThrow(StoreConflict)
    expect(await store.credential('cred-1')).toMatchObject({ principal: 'alice' })
    expect(await store.enrolmentPrincipal('token-2')).toBe('bob')
    expect(await store.enrol('token-2', passkey('cred-2', 'bob'))).toMatchObject({ principal: 'bob' })
  })

  it('lets one of two replicas use a token or take a challenge, never both', async () => {
    const a = await fresh()
    const b = await handle(a.url)
    const rounds = [1, 2, 3, 4]
    for (const round of rounds) {
      await a.store.issueEnrolment('alice', `token-${round}`, 15 * MINUTE)
      await a.store.saveChallenge(challenge(`challenge-${round}`))
    }
    const enrolments = await Promise.allSettled(
      rounds.flatMap((round) => [
        a.store.enrol(`token-${round}`, passkey(`cred-${round}-a`, 'alice')),
        b.store.enrol(`token-${round}`, passkey(`cred-${round}-b`, 'alice')),
      ]),
    )
    const takes = await Promise.all(
      rounds.flatMap((round) => [
        a.store.takeChallenge(`challenge-${round}`, 'vote'),
        b.store.takeChallenge(`challenge-${round}`, 'vote'),
      ]),
    )
    for (const [index] of rounds.entries()) {
      const pair = enrolments.slice(2 * index, 2 * index + 2)
      expect(pair.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1)
      const refused = pair.find((outcome) => outcome.status === 'rejected')
      expect(refused?.reason).toBeInstanceOf(NotFound)
      expect(takes.slice(2 * index, 2 * index + 2).filter((taken) => taken !== undefined)).toHaveLength(1)
    }
    expect(await b.store.credentialsOf('alice')).toHaveLength(rounds.length)
  })

  it('refuses an expired enrolment token, challenge and session', async () => {
    const { store } = await fresh()
    await store.issueEnrolment('alice', 'token-1', 15 * MINUTE)
    await store.saveChallenge(challenge('challenge-1', 'vote', 5 * MINUTE))
    await store.openSession('session-1', 'alice', 'cred-1', 60 * MINUTE)
    clock.advance(5 * MINUTE + 1)
    expect(await store.takeChallenge('challenge-1', 'vote')).toBeUndefined()
    expect(await store.enrolmentPrincipal('token-1')).toBe('alice')
    clock.advance(10 * MINUTE)
    expect(await store.enrolmentPrincipal('token-1')).toBeUndefined()
    await expect(store.enrol('token-1', passkey('cred-1', 'alice'))).rejects.toThrow(NotFound)
    expect(await store.session('session-1')).toMatchObject({ principal: 'alice' })
    clock.advance(45 * MINUTE)
    expect(await store.session('session-1')).toBeUndefined()
    expect(await store.credentialsOf('alice')).toEqual([])
  })

  it('hands a challenge out once, with what it was about, and only for its purpose', async () => {
    const { store } = await fresh()
    await store.saveChallenge(challenge('challenge-1'))
    const taken = await store.takeChallenge('challenge-1', 'vote')
    expect(taken).toEqual({
      id: 'challenge-1',
      purpose: 'vote',
      principal: 'alice',
      challenge: 'challenge-challenge-1',
      context: { facts: { requestId: 'req-1', decision: 'approve' }, nonce: 'nonce-challenge-1' },
      expiresAt: clock.now() + 5 * MINUTE,
    })
    expect(await store.takeChallenge('challenge-1', 'vote')).toBeUndefined()

    // Offered for another purpose (a sign-in challenge as a vote's), it is refused and spent.
    await store.saveChallenge(challenge('challenge-2', 'sign-in'))
    expect(await store.takeChallenge('challenge-2', 'vote')).toBeUndefined()
    expect(await store.takeChallenge('challenge-2', 'sign-in')).toBeUndefined()
    expect(await store.takeChallenge('challenge-unknown', 'vote')).toBeUndefined()
  })

  it('opens a session for its token only, closes it, and audits sign-in and sign-out', async () => {
    const { db, store } = await fresh()
    await store.openSession('session-1', 'alice', 'cred-1', 60 * MINUTE)
    await store.openSession('session-2', 'bob', 'cred-2', 60 * MINUTE)
    expect(await store.session('session-1')).toEqual({
      principal: 'alice',
      expiresAt: clock.now() + 60 * MINUTE,
    })
    expect(await store.session(sha256Hex('session-1'))).toBeUndefined()
    await store.closeSession('session-1')
    expect(await store.session('session-1')).toBeUndefined()
    expect(await store.session('session-2')).toMatchObject({ principal: 'bob' })
    await store.closeSession('session-1')
    await store.closeSession('session-unknown')

    const events = []
    for await (const entry of readAudit((work) => db.read(work)))
      events.push({ event: entry.event, body: entry.body })
    expect(events).toEqual([
      { event: 'console-sign-in', body: { principal: 'alice', credentialId: 'cred-1' } },
      { event: 'console-sign-in', body: { principal: 'bob', credentialId: 'cred-2' } },
      { event: 'console-sign-out', body: { principal: 'alice' } },
    ])
  })

  it("keeps each principal's passkeys apart and records their signature counters", async () => {
    const { db, store } = await fresh()
    for (const [token, principal, credentialId] of [
      ['token-1', 'alice', 'cred-a1'],
      ['token-2', 'bob', 'cred-b1'],
      ['token-3', 'alice', 'cred-a2'],
    ] as const) {
      await store.issueEnrolment(principal, token, 15 * MINUTE)
      await store.enrol(token, passkey(credentialId, principal))
      clock.advance(1_000)
    }
    expect((await store.credentialsOf('alice')).map((c) => c.credentialId)).toEqual(['cred-a1', 'cred-a2'])
    expect((await store.credentialsOf('bob')).map((c) => c.credentialId)).toEqual(['cred-b1'])
    expect(await store.credentialsOf('carol')).toEqual([])
    expect(await store.credential('cred-unknown')).toBeUndefined()

    await store.recordUse('cred-a2', 7)
    expect((await store.credential('cred-a2'))?.signCount).toBe(7)
    expect((await store.credential('cred-a1'))?.signCount).toBe(0)
    // Two votes verified at once against counter 0 record 7 and 5 in either order: the counter keeps 7,
    // or an authenticator cloned at 6 would pass the next check.
    await store.recordUse('cred-a2', 5)
    expect((await store.credential('cred-a2'))?.signCount).toBe(7)
    await store.recordUse('cred-a2', 2 ** 32 - 1)
    expect((await store.credential('cred-a2'))?.signCount).toBe(2 ** 32 - 1)

    // A vote names its passkey: bob's is no key of alice's.
    const keyOf = (principal: string, credentialId: string) =>
      db.read((reader) => credentialKeyOf(reader, principal, credentialId))
    expect(await keyOf('alice', 'cred-a1')).toBe(passkey('cred-a1', 'alice').publicKeyPem)
    expect(await keyOf('alice', 'cred-b1')).toBeUndefined()
    expect(await keyOf('bob', 'cred-unknown')).toBeUndefined()
  })
})
