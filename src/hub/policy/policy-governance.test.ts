import pino from 'pino'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { testDatabases } from '../../../test/support/databases.js'
import { createServiceServer, type ServiceApp } from '../../service/index.js'
import { HUB_POLICY_MIGRATIONS, migrate, openDatabase, type StorageDatabase } from '../../storage/index.js'
import { policyRoutes } from '../rest/policy-routes.js'
import { setPrincipal, type ApiPrincipal, type HubRouteConfig } from '../rest/roles.js'
import { createPolicyGovernance, type PolicyGovernance } from './index.js'

const owner: ApiPrincipal = { id: 'owner', name: 'Owner', role: 'OWNER' }
const admin1: ApiPrincipal = { id: 'admin-1', name: 'Admin 1', role: 'ADMIN' }
const admin2: ApiPrincipal = { id: 'admin-2', name: 'Admin 2', role: 'ADMIN' }
const signer: ApiPrincipal = { id: 'signer', name: 'Signer', role: 'SIGNER' }

const POLICY = `version: 2
groups:
  traders: [trader-1]
rules:
  - id: traders
    match: { initiator: [group:traders], dest.address_type: [WHITELISTED] }
    action: ALLOW
`
const NOW = new Date('2026-12-01T10:00:00Z')
const TRANSFER = {
  operation: 'TRANSFER',
  assetId: 'ETH',
  amount: '1',
  amountUsd: 3_000,
  source: { type: 'VAULT_ACCOUNT', id: '0' },
  destination: {
    type: 'EXTERNAL_WALLET',
    address: '0x5dC69B1Fbb13Bafd09af88a782F0F285772Ad5f8',
    addressType: 'WHITELISTED',
  },
  initiator: 'trader-1',
} as const

describe.each(testDatabases)('hub policy governance on $name', (database) => {
  let db: StorageDatabase
  let governance: PolicyGovernance
  let audited: { event: string; body: Record<string, unknown> }[]
  let now = NOW.getTime()
  const open = async (adminQuorum?: number) => {
    db = openDatabase(await database.freshUrl())
    await migrate(db, HUB_POLICY_MIGRATIONS, now)
    audited = []
    let ids = 0
    governance = createPolicyGovernance({
      database: db,
      audit: async (event, body) => {
        audited.push({ event, body })
      },
      clock: { now: () => now },
      newDraftId: () => `draft-${++ids}`,
      ...(adminQuorum === undefined ? {} : { adminQuorum }),
    })
  }
  const proposed = async (text = POLICY, by = admin1) => {
    const result = await governance.propose(text, by)
    if (!result.ok) throw new Error(JSON.stringify(result.diagnostics))
    return result.draft
  }
  afterEach(async () => {
    await db?.close()
    now = NOW.getTime()
  })
  afterAll(() => database.dropAll())

  it('publishes with the owner and a quorum of admins, and the hub then decides with it', async () => {
    await open(2)
    expect((await governance.activePolicy()).evaluate(TRANSFER, NOW).action).toBe('BLOCK')
    const draft = await proposed()
    expect((await governance.submit(draft.id, admin1)).state).toBe('awaiting_quorum')
    expect((await governance.approve(draft.id, owner)).state).toBe('awaiting_quorum')
    now += 1_000
    const published = await governance.approve(draft.id, admin2)
    expect(published.state).toBe('published')
    expect(await governance.activeRecord()).toMatchObject({
      version: 1,
      text: POLICY,
      digest: draft.digest,
      publishedBy: 'admin-2',
      publishedAt: NOW.getTime() + 1_000,
    })
    const active = await governance.activePolicy()
    expect(active.digest).toBe(draft.digest)
    expect(active.evaluate(TRANSFER, NOW)).toMatchObject({ action: 'ALLOW', ruleId: 'traders' })
    expect(await governance.activePolicy()).toBe(active)
    expect(audited.map((entry) => entry.event)).toEqual([
      'policy-draft-proposed',
      'policy-draft-submitted',
      'policy-draft-approved',
      'policy-draft-approved',
      'policy-draft-approved',
      'policy-published',
    ])
  })

  it('does not publish on admin approvals alone, nor on the owner alone', async () => {
    await open(1)
    const byAdmins = await proposed()
    await governance.submit(byAdmins.id, admin1)
    expect((await governance.approve(byAdmins.id, admin2)).state).toBe('awaiting_quorum')
    const byOwner = await proposed(POLICY, owner)
    expect((await governance.submit(byOwner.id, owner)).state).toBe('awaiting_quorum')
    expect(await governance.activeRecord()).toBeUndefined()
    expect((await governance.awaitingQuorum()).map((draft) => draft.id)).toEqual([byAdmins.id, byOwner.id])
    expect((await governance.approve(byOwner.id, admin2)).state).toBe('published')
    expect((await governance.awaitingQuorum()).map((draft) => draft.id)).toEqual([byAdmins.id])
  })

  it('rejects a draft on one rejection, after which nobody can approve it', async () => {
    await open(1)
    const draft = await proposed()
    await governance.approve(draft.id, owner)
    expect((await governance.reject(draft.id, admin2)).state).toBe('rejected')
    await expect(governance.approve(draft.id, admin1)).rejects.toMatchObject({ statusCode: 409 })
    expect(await governance.activeRecord()).toBeUndefined()
    expect(audited.at(-1)).toMatchObject({ event: 'policy-draft-rejected', body: { userId: 'admin-2' } })
  })

  it("counts the proposer's approval once, however often it is given", async () => {
    await open(2)
    const draft = await proposed()
    await governance.submit(draft.id, admin1)
    await governance.approve(draft.id, admin1)
    await governance.approve(draft.id, admin1)
    const afterOwner = await governance.approve(draft.id, owner)
    expect(afterOwner.state).toBe('awaiting_quorum')
    expect(afterOwner.votes.map((vote) => vote.userId)).toEqual(['admin-1', 'owner'])
    await expect(governance.reject(draft.id, admin1)).rejects.toMatchObject({ statusCode: 409 })
  })

  it('refuses a draft that does not compile, with its diagnostics, and stores nothing', async () => {
    await open()
    const result = await governance.propose(
      `version: 1
groups:
  ops: [a, b]
rules:
  - { id: x, match: { source.type: EXCHANGE_ACCOUNT }, action: ALLOW, signers: [group:ops] }
`,
      admin1,
    )
    expect(result).toEqual({
      ok: false,
      diagnostics: [expect.objectContaining({ severity: 'error', path: 'rules[0].signers', line: 5 })],
    })
    expect(audited).toEqual([])
  })

  it('refuses votes by other roles and on unknown drafts', async () => {
    await open()
    const draft = await proposed()
    await expect(governance.approve(draft.id, signer)).rejects.toMatchObject({ statusCode: 403 })
    await expect(governance.approve('nope', owner)).rejects.toMatchObject({ statusCode: 404 })
  })

  describe('REST routes', () => {
    let app: ServiceApp
    const routeRoles = new Map<string, readonly string[]>()
    const serve = async (principal: { value: ApiPrincipal }) => {
      app = createServiceServer({ log: pino({ level: 'silent' }) })
      app.addHook('onRoute', (route) => {
        routeRoles.set(`${String(route.method)} ${route.url}`, (route.config as HubRouteConfig).roles)
      })
      // Authentication is another plugin's job: here the test names the caller.
      app.addHook('onRequest', async (request) => setPrincipal(request, principal.value))
      await app.register(policyRoutes(governance))
      await app.ready()
    }
    afterEach(() => app?.close())

    it('drafts, publishes and serves the active policy through the TAP API', async () => {
      await open(1)
      const caller = { value: admin1 }
      await serve(caller)
      const put = await app.inject({ method: 'PUT', url: '/v1/tap/draft', payload: { policy: POLICY } })
      expect(put.statusCode).toBe(200)
      const { draftResponse, validation } = put.json()
      expect(draftResponse).toMatchObject({
        status: 'SUCCESS',
        draftId: 'draft-1',
        metadata: { editedBy: 'admin-1' },
      })
      expect(draftResponse.rules[0].id).toBe('traders')
      expect(validation).toMatchObject({ status: 'SUCCESS', checkResult: { errors: 0, results: [] } })

      const submitted = await app.inject({
        method: 'POST',
        url: '/v1/tap/draft',
        payload: { draftId: 'draft-1' },
      })
      expect(submitted.statusCode).toBe(201)
      expect(submitted.json()).toMatchObject({ status: 'AWAITING_QUORUM', checkResult: { errors: 0 } })

      caller.value = owner
      const approved = await app.inject({ method: 'POST', url: '/v1/tap/drafts/draft-1/approve' })
      expect(approved.json()).toMatchObject({ status: 'SUCCESS', state: 'published' })

      const active = await app.inject({ method: 'GET', url: '/v1/tap/active_policy' })
      expect(active.json()).toMatchObject({
        policy: {
          rules: [{ id: 'traders', action: 'ALLOW' }],
          metadata: { version: 1, publishedBy: 'owner' },
        },
        validation: { status: 'SUCCESS', checkResult: { errors: 0, results: [] } },
      })

      caller.value = admin2
      const rulesOnly = await app.inject({
        method: 'PUT',
        url: '/v1/tap/draft',
        payload: { rules: [{ id: 'nothing', match: { asset: ['BTC'] }, action: 'BLOCK' }] },
      })
      expect(rulesOnly.json().draftResponse.draftId).toBe('draft-2')
      const draft2 = await governance.approve('draft-2', owner)
      expect(draft2.text).toMatch(/traders: \[ ?trader-1 ?\]/)
      expect(draft2.text).toContain('id: nothing')
    })

    it('answers the diagnostics of a draft that does not compile, and refuses unknown drafts with the API error shape', async () => {
      await open()
      await serve({ value: admin1 })
      const put = await app.inject({
        method: 'PUT',
        url: '/v1/tap/draft',
        payload: { rules: [{ id: 'a', match: { initiator: ['group:nobody'] }, action: 'ALLOW' }] },
      })
      expect(put.statusCode).toBe(200)
      expect(put.json()).toMatchObject({
        draftResponse: { status: 'INVALID_CONFIGURATION', draftId: null },
        validation: {
          status: 'FAILURE',
          checkResult: {
            errors: 1,
            results: [
              {
                index: 0,
                status: 'failure',
                errors: [
                  {
                    errorField: 'rules[0].match.initiator[0]',
                    errorMessage: expect.stringMatching(/unknown group "nobody"/),
                  },
                ],
              },
            ],
          },
        },
      })
      const missing = await app.inject({ method: 'POST', url: '/v1/tap/draft', payload: { draftId: 'nope' } })
      expect(missing.statusCode).toBe(404)
      expect(missing.json()).toEqual({ message: 'no policy draft nope', code: 1404 })
      const bad = await app.inject({ method: 'PUT', url: '/v1/tap/draft', payload: { text: 'x' } })
      expect(bad.statusCode).toBe(400)
    })

    it('declares the roles of each route for the authentication hook', async () => {
      await open()
      await serve({ value: admin1 })
      expect(routeRoles.get('GET /v1/tap/active_policy')).toContain('VIEWER')
      expect(routeRoles.get('PUT /v1/tap/draft')).toEqual(['OWNER', 'ADMIN', 'NON_SIGNING_ADMIN'])
      expect(routeRoles.get('POST /v1/tap/draft')).toEqual(['OWNER', 'ADMIN', 'NON_SIGNING_ADMIN'])
      expect(routeRoles.get('POST /v1/tap/drafts/:draftId/approve')).toEqual(['OWNER', 'ADMIN'])
      expect(routeRoles.get('POST /v1/tap/drafts/:draftId/reject')).toEqual(['OWNER', 'ADMIN'])
    })
  })
})
