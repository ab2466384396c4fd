import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ed25519 } from '@noble/curves/ed25519.js'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { signAuthorization, startCloudCosigner, type RunningCloudCosigner } from '../../src/hub/index.js'
import type { Authorization, KeygenBody, SignBody } from '../../src/protocol/index.js'
import { FakeHub } from '../link/fake-hub.js'
import { startParty, stopParties, type TestParty } from '../link/parties.js'

const HOLDERS = ['cloud1', 'cloud2', 'alice'] as const satisfies KeygenBody['holders']
const CLOUDS = ['cloud1', 'cloud2'] as const

describe('a cloud co-signer joins only what the hub authorized, once', () => {
  const hub = new FakeHub()
  const dir = mkdtempSync(join(tmpdir(), 'countersign-cloud-'))
  let clouds: RunningCloudCosigner[] = []
  let customer: TestParty[] = []
  let publicKey = ''

  const startClouds = async () => {
    clouds = await Promise.all(
      CLOUDS.map((name) =>
        startCloudCosigner(
          {
            hubUrl: 'http://127.0.0.1:1',
            party: hub.keysOf(name),
            refreshToken: 'unused',
            hubKey: hub.hubKey,
            keyShareDirectory: join(dir, name, 'shares'),
            presignatureDirectory: join(dir, name, 'presignatures'),
            storeUrl: `sqlite:${join(dir, `${name}.db`)}`,
            sessionIdleMs: 2_000,
            logLevel: 'silent',
          },
          { transport: hub.transportFor(name) },
        ),
      ),
    )
    customer = [startParty(hub, 'alice', dir, { idleMs: 1_000 })]
  }
  const stopAll = async () => {
    await Promise.all(clouds.map((cloud) => cloud.close()))
    await stopParties(customer)
    clouds = []
  }

  const now = () => Math.floor(Date.now() / 1000)
  const authorize = (body: SignBody, changes: Partial<Authorization> = {}): Authorization => ({
    txId: body.txId,
    attempt: body.attempt,
    algorithm: body.algorithm,
    signer: 'alice',
    ruleId: 'rule-1',
    messages: [{ content: body.content, path: body.path, session: body.session }],
    iat: now(),
    exp: now() + 300,
    ...changes,
  })
  const job = (txId: string, content: string, attempt = 1) =>
    hub.signBody({ txId, attempt, algorithm: 'MPC_EDDSA_ED25519', path: [0, 4], content, holders: HOLDERS })
  const cloudEnvelopes = () => CLOUDS.reduce((sum, name) => sum + (hub.sent.get(name) ?? 0), 0)

  /** Runs the job; returns what the clouds posted, and whether they sent any MPC message for it. */
  async function run(body: SignBody, authorization: string) {
    const before = cloudEnvelopes()
    await hub.startJob('sign', { ...body, authorization })
    const results = await hub.resultsOf(body.job, 3)
    return { results, cloudsSpoke: cloudEnvelopes() > before }
  }

  async function expectRefused(body: SignBody, authorization: string, reason: RegExp) {
    const { results, cloudsSpoke } = await run(body, authorization)
    for (const cloud of CLOUDS) {
      expect(results.get(cloud)?.outcome).toBe('declined')
      expect(results.get(cloud)?.reason).toMatch(reason)
    }
    expect(results.get('alice')?.outcome).toBe('failed')
    expect(cloudsSpoke).toBe(false)
  }

  beforeAll(async () => {
    await startClouds()
    const keygen = hub.keygenBody('MPC_EDDSA_ED25519', HOLDERS)
    await hub.startJob('keygen', keygen)
    publicKey = (await hub.resultsOf(keygen.job, 3)).get('cloud1')?.publicKey ?? ''
    await stopAll()
  }, 60_000)
  afterEach(stopAll)
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  const signed: SignBody[] = []

  it('signs under a valid authorization and logs it before joining', async () => {
    await startClouds()
    const body = job('tx-good', randomBytes(40).toString('hex'))
    const authorization = await signAuthorization(hub.serviceKey, authorize(body))
    const { results, cloudsSpoke } = await run(body, authorization)
    expect([...results.values()].map((r) => r.outcome)).toEqual(['done', 'done', 'done'])
    expect(cloudsSpoke).toBe(true)
    expect(typeof results.get('cloud1')?.signature).toBe('string')
    expect(publicKey).toMatch(/^[0-9a-f]{64}$/)
    expect(ed25519.Point.fromHex(publicKey).is0()).toBe(false)
    signed.push({ ...body, authorization })
  })

  it('refuses an authorization signed by another key', async () => {
    await startClouds()
    const impostor = generateKeyPairSync('ed25519').privateKey
    const body = job('tx-impostor', 'aa')
    await expectRefused(body, await signAuthorization(impostor, authorize(body)), /does not verify/)
  })

  it('refuses an authorization altered after signing (one payload byte changed)', async () => {
    await startClouds()
    const body = job('tx-altered', 'ab')
    const [header, payload, signature] = (await signAuthorization(hub.serviceKey, authorize(body))).split('.')
    const json = Buffer.from(payload ?? '', 'base64url')
    json[json.indexOf('rule-1') + 5] = '2'.charCodeAt(0)
    const altered = `${header}.${json.toString('base64url')}.${signature}`
    await expectRefused(body, altered, /does not verify/)
  })

  it('refuses an expired authorization', async () => {
    await startClouds()
    const body = job('tx-expired', 'ac')
    const expired = authorize(body, { iat: now() - 600, exp: now() - 1 })
    await expectRefused(body, await signAuthorization(hub.serviceKey, expired), /expired/)
  })

  it('refuses a job the authorization does not list: other content, path, session or signer', async () => {
    await startClouds()
    const listed = () => job(`tx-list-${randomBytes(4).toString('hex')}`, 'ad')
    const [content, path, session, signer] = [listed(), listed(), listed(), listed()]
    const cases: [SignBody, Authorization][] = [
      [{ ...content, content: 'ae' }, authorize(content)],
      [{ ...path, path: [0, 5] }, authorize(path)],
      [job(session.txId, session.content), authorize(session)],
      [signer, authorize(signer, { signer: 'bob' })],
    ]
    for (const [body, authorization] of cases)
      await expectRefused(
        body,
        await signAuthorization(hub.serviceKey, authorization),
        /not one entry|signer bob/,
      )
  })

  it('refuses a replayed (txId, attempt), after a restart too: the same job again, or a new authorization', async () => {
    await startClouds()
    const first = signed[0] as SignBody
    const replay = { ...first, job: `${first.job}-replay` }
    await expectRefused(replay, first.authorization, /session .* was used already/)
    const again = job('tx-good', first.content)
    await expectRefused(
      again,
      await signAuthorization(hub.serviceKey, authorize(again)),
      /another authorization of transaction tx-good attempt 1/,
    )
  })

  it('refuses content signed before under another transaction', async () => {
    await startClouds()
    const first = signed[0] as SignBody
    const body = job('tx-other', first.content)
    await expectRefused(
      body,
      await signAuthorization(hub.serviceKey, authorize(body)),
      /another transaction \(tx-good\)/,
    )
  })

  it('stops an attempt once a later one of its transaction is authorized, and never joins it again', async () => {
    await startClouds()
    await stopParties(customer) // the customer's co-signer is away: attempt 1 stalls after its first round
    const content = randomBytes(40).toString('hex')
    const first = job('tx-fenced', content, 1)
    await hub.startJob('sign', {
      ...first,
      authorization: await signAuthorization(hub.serviceKey, authorize(first)),
    })
    const second = job('tx-fenced', content, 2)
    await hub.startJob('sign', {
      ...second,
      authorization: await signAuthorization(hub.serviceKey, authorize(second)),
    })
    // It comes back and goes on with both: the clouds take no step of attempt 1 any more.
    customer = [startParty(hub, 'alice', dir, { idleMs: 1_000 })]
    const stopped = await hub.resultsOf(first.job, 3)
    for (const cloud of CLOUDS) {
      expect(stopped.get(cloud)?.outcome).toBe('failed')
      expect(stopped.get(cloud)?.reason).toMatch(
        /attempt 1 of transaction tx-fenced was superseded by attempt 2/,
      )
    }
    const completed = await hub.resultsOf(second.job, 3)
    expect([...completed.values()].map((r) => r.outcome)).toEqual(['done', 'done', 'done'])
    const late = { ...job('tx-fenced', content, 1), job: `${first.job}-late` }
    await expectRefused(
      late,
      await signAuthorization(hub.serviceKey, authorize(late)),
      /attempt 1 of transaction tx-fenced was superseded by attempt 2/,
    )
    signed.push({ ...second, authorization: '' })
  })

  it('logs exactly what was authorized and signed, in a chain that verifies', async () => {
    await startClouds()
    const [good, fenced] = signed
    for (const cloud of clouds) {
      const entries = []
      for await (const entry of cloud.log.readLog()) entries.push(entry)
      expect(
        entries.map((entry) => [entry.event, entry.body.txId, entry.body.attempt, entry.body.content]),
      ).toEqual([
        ['cloud-authorization', 'tx-good', 1, good?.content],
        ['cloud-signature', 'tx-good', 1, good?.content],
        ['cloud-authorization', 'tx-fenced', 1, fenced?.content],
        ['cloud-authorization', 'tx-fenced', 2, fenced?.content],
        ['cloud-signature', 'tx-fenced', 2, fenced?.content],
      ])
      expect(await cloud.log.verifyLog()).toMatchObject({ ok: true, entries: 5 })
    }
  })
})
