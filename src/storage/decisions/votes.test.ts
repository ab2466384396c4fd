import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { systemClock } from '../../core/index.js'
import {
  approverKey,
  registerApprover,
  signedVote,
  voteVerifier as checkVote,
  VOTE_WINDOW_MS,
} from '../../../test/support/approvers.js'
import { testDatabases } from '../../../test/support/databases.js'
import { facts, planner, verdict } from '../../../test/support/planners.js'
import { openStore, type HeldRequest, type Store } from '../index.js'

describe.each(testDatabases)('signed votes on $name', (database) => {
  let store: Store
  const now = Date.now()
  const hold = { quorum: 2, approvers: ['alice', 'bob', 'carol'], ttlMs: 3_600_000 }
  const holding = planner(() => verdict({ action: 'RETRY', reason: 'held', hold }))

  const open = async () => {
    store = await openStore(await database.freshUrl(), { clock: { ...systemClock, now: () => now } })
  }
  /** Holds `requestId` and returns it as `approvals list` shows it. */
  const held = async (requestId: string): Promise<HeldRequest> => {
    await store.settle(facts(requestId), holding)
    return (await store.listHeld()).find((item) => item.requestId === requestId)!
  }
  afterEach(async () => {
    await store?.close()
  })
  afterAll(() => database.dropAll())

  it('records a vote signed by the approver, with its signature, and audits it with the signature', async () => {
    await open()
    const alice = await registerApprover(store, 'alice')
    const request = await held('v-1')
    const vote = signedVote(request, 'alice', alice, { reason: 'known beneficiary' })
    const recorded = await store.castVote(request, vote, checkVote)
    expect(recorded.votes).toEqual([
      expect.objectContaining({
        approver: 'alice',
        vote: 'approve',
        signature: vote.signature,
        signedAt: vote.signedAt,
      }),
    ])
    const entries = []
    for await (const entry of store.readAudit()) entries.push(entry)
    expect(entries.at(-1)).toMatchObject({
      event: 'vote',
      requestId: 'v-1',
      body: {
        approver: 'alice',
        signature: vote.signature,
        payloadDigest: request.payloadDigest,
        keyFingerprint: alice.fingerprint,
      },
    })
  })

  it("refuses a vote signed by a key that is not the approver's, and records nothing", async () => {
    await open()
    await registerApprover(store, 'alice')
    const mallory = approverKey()
    const request = await held('v-2')
    await expect(
      store.castVote(request, signedVote(request, 'alice', mallory), checkVote),
    ).rejects.toMatchObject({
      code: 'CS_VOTE_REFUSED',
      message: expect.stringMatching(/signature does not verify with "alice"'s registered key/),
    })
    expect((await store.listHeld())[0]!.votes).toEqual([])
  })

  it("refuses a vote over another request's digest", async () => {
    await open()
    const alice = await registerApprover(store, 'alice')
    const request = await held('v-3')
    const vote = signedVote(request, 'alice', alice, { payloadDigest: 'f'.repeat(64) })
    await expect(store.castVote(request, vote, checkVote)).rejects.toMatchObject({
      code: 'CS_VOTE_REFUSED',
      message: expect.stringMatching(/signed over payload digest f{16}…, but request "v-3" recorded/),
    })
  })

  it('refuses a replayed vote: for another request, with its facts rewritten, and a second time', async () => {
    await open()
    const alice = await registerApprover(store, 'alice')
    const first = await held('v-4')
    const second = await held('v-5')
    const vote = signedVote(first, 'alice', alice)
    await store.castVote(first, vote, checkVote)
    await expect(store.castVote(second, vote, checkVote)).rejects.toMatchObject({
      code: 'CS_VOTE_REFUSED',
      message: expect.stringMatching(/signed for tx request "v-4", not tx request "v-5"/),
    })
    // Claiming the other request's facts with alice's signature breaks the signature instead.
    const rewritten = { ...vote, requestId: second.requestId, payloadDigest: second.payloadDigest }
    await expect(store.castVote(second, rewritten, checkVote)).rejects.toMatchObject({
      code: 'CS_VOTE_REFUSED',
      message: expect.stringMatching(/signature does not verify/),
    })
    await expect(store.castVote(first, vote, checkVote)).rejects.toMatchObject({
      code: 'CS_STORE_CONFLICT',
      message: expect.stringMatching(/already voted/),
    })
    expect((await store.listHeld()).find((item) => item.requestId === 'v-5')!.votes).toEqual([])
  })

  it('refuses a vote for another route and one signed outside the time window', async () => {
    await open()
    const alice = await registerApprover(store, 'alice')
    const request = await held('v-6')
    const forConfig = signedVote({ ...request, route: 'config' }, 'alice', alice)
    await expect(store.castVote(request, forConfig, checkVote)).rejects.toMatchObject({
      code: 'CS_VOTE_REFUSED',
      message: expect.stringMatching(/signed for config request "v-6", not tx request "v-6"/),
    })
    const stale = signedVote(request, 'alice', alice, { signedAt: now - VOTE_WINDOW_MS - 1_000 })
    await expect(store.castVote(request, stale, checkVote)).rejects.toMatchObject({
      code: 'CS_VOTE_REFUSED',
      message: expect.stringMatching(/more than 5 minutes from/),
    })
  })

  it('refuses votes of unregistered approvers, and a key registered twice', async () => {
    await open()
    const bob = approverKey()
    const request = await held('v-7')
    await expect(store.castVote(request, signedVote(request, 'bob', bob), checkVote)).rejects.toMatchObject({
      code: 'CS_VOTE_REFUSED',
      message: expect.stringMatching(/bob is not a registered approver/),
    })
    await store.addApprover({ id: 'bob', publicKey: bob.publicPem, fingerprint: bob.fingerprint })
    await expect(
      store.addApprover({ id: 'carol', publicKey: bob.publicPem, fingerprint: bob.fingerprint }),
    ).rejects.toMatchObject({
      code: 'CS_STORE_CONFLICT',
      message: expect.stringMatching(/already registered to "bob"/),
    })
    await store.removeApprover('bob')
    await expect(store.castVote(request, signedVote(request, 'bob', bob), checkVote)).rejects.toMatchObject({
      code: 'CS_VOTE_REFUSED',
    })
    const events = []
    for await (const entry of store.readAudit()) events.push(entry.event)
    expect(events.filter((event) => event.startsWith('approver-'))).toEqual([
      'approver-added',
      'approver-removed',
    ])
  })
})
