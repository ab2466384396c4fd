import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { testDatabases } from '../../../test/support/databases.js'
import {
  hubPolicyStore,
  HUB_POLICY_MIGRATIONS,
  migrate,
  NotFound,
  openDatabase,
  type DraftVote,
  type HubPolicyStore,
  type StorageDatabase,
} from '../index.js'

/** The governance store records what the governance rules decide, with its audit entries, in one write. */
describe.each(testDatabases)('hub-policy store on $name', (database) => {
  let db: StorageDatabase
  let store: HubPolicyStore
  let audited: { event: string; body: Record<string, unknown> }[]
  let failAudit: boolean
  const open = async () => {
    db = openDatabase(await database.freshUrl())
    await migrate(db, HUB_POLICY_MIGRATIONS, 1)
    audited = []
    failAudit = false
    store = hubPolicyStore(db, async (event, body, session) => {
      expect(session.db).toBeDefined()
      if (failAudit) throw new Error('audit chain unavailable')
      audited.push({ event, body })
    })
  }
  const draft = (id: string) => ({
    id,
    text: `version: ${id}\n`,
    digest: `d-${id}`,
    proposedBy: 'admin-1',
    proposedAt: 10,
  })
  const vote = (userId: string, role: string, at: number): DraftVote => ({
    userId,
    role,
    vote: 'approve',
    at,
  })
  afterEach(() => db?.close())
  afterAll(() => database.dropAll())

  it('creates a draft with its audit entry and reads it back', async () => {
    await open()
    await store.createDraft(draft('a'), [{ event: 'policy-draft-proposed', body: { draftId: 'a' } }])
    expect(await store.draft('a')).toEqual({ ...draft('a'), state: 'draft', votes: [] })
    expect(audited).toEqual([{ event: 'policy-draft-proposed', body: { draftId: 'a' } }])
    expect(await store.draft('missing')).toBeUndefined()
    expect(await store.active()).toBeUndefined()
  })

  it('records votes and publishes versions 1, 2… in order', async () => {
    await open()
    await store.createDraft(draft('a'), [])
    await store.transition('a', () => ({
      vote: vote('owner', 'OWNER', 20),
      state: 'awaiting_quorum',
      events: [],
    }))
    const { draft: published, active } = await store.transition('a', () => ({
      vote: vote('admin-2', 'ADMIN', 30),
      state: 'published',
      publish: { at: 30, by: 'admin-2' },
      events: [{ event: 'policy-published', body: { version: 1 } }],
    }))
    expect(published.votes).toEqual([vote('owner', 'OWNER', 20), vote('admin-2', 'ADMIN', 30)])
    expect(published.state).toBe('published')
    expect(active).toEqual({
      version: 1,
      text: 'version: a\n',
      digest: 'd-a',
      publishedAt: 30,
      publishedBy: 'admin-2',
      draftId: 'a',
    })
    await store.createDraft(draft('b'), [])
    await store.transition('b', () => ({ state: 'published', publish: { at: 40, by: 'owner' }, events: [] }))
    expect(await store.active()).toMatchObject({ version: 2, draftId: 'b' })
  })

  it('writes nothing when the plan refuses or the audit fails', async () => {
    await open()
    await store.createDraft(draft('a'), [])
    await expect(
      store.transition('a', () => {
        throw new Error('refused')
      }),
    ).rejects.toThrow('refused')
    failAudit = true
    await expect(
      store.transition('a', () => ({
        vote: vote('owner', 'OWNER', 20),
        state: 'published',
        publish: { at: 20, by: 'owner' },
        events: [{ event: 'policy-published', body: {} }],
      })),
    ).rejects.toThrow('audit chain unavailable')
    expect(await store.draft('a')).toMatchObject({ state: 'draft', votes: [] })
    expect(await store.active()).toBeUndefined()
    await expect(store.transition('nope', () => ({ state: 'draft', events: [] }))).rejects.toBeInstanceOf(
      NotFound,
    )
  })

  it('never records two votes of one user on one draft', async () => {
    await open()
    await store.createDraft(draft('a'), [])
    await store.transition('a', () => ({
      vote: vote('admin-1', 'ADMIN', 20),
      state: 'awaiting_quorum',
      events: [],
    }))
    await expect(
      store.transition('a', () => ({
        vote: vote('admin-1', 'ADMIN', 21),
        state: 'awaiting_quorum',
        events: [],
      })),
    ).rejects.toThrow()
    expect((await store.draft('a'))!.votes).toHaveLength(1)
  })

  it('applies concurrent transitions one after the other, each seeing the votes before it', async () => {
    await open()
    await store.createDraft(draft('a'), [])
    const seen: number[] = []
    await Promise.all(
      ['u1', 'u2', 'u3', 'u4'].map((user, index) =>
        store.transition('a', (current) => {
          seen.push(current.votes.length)
          return { vote: vote(user, 'ADMIN', 20 + index), state: 'awaiting_quorum', events: [] }
        }),
      ),
    )
    expect(seen.sort()).toEqual([0, 1, 2, 3])
  })
})
