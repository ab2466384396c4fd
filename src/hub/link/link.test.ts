import { createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { SignJWT, compactVerify, decodeJwt, jwtVerify } from 'jose'
import pino from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import WebSocket, { type ClientOptions } from 'ws'
import {
  LINK_MAX_FRAME_BYTES,
  LINK_MESSAGE_TYPE,
  LinkMessageSchema,
  type LinkMessage,
  type StreamFrame,
} from '../../protocol/index.js'
import { createServiceServer, listenOn, type ServerLimits, type ServiceApp } from '../../service/index.js'
import {
  HUB_LINK_MIGRATIONS,
  HubLinkStore,
  migrate,
  openDatabase,
  type LinkJob,
} from '../../storage/index.js'
import { postgresDatabase, pgUrl, testDatabases, type TestDatabase } from '../../../test/support/databases.js'
import { cleanupsPerTest, skewedClockPerTest } from '../../../test/support/per-test.js'
import { LINK_CODES, LinkHub, linkRoutes, type LinkResult, type SignJobSpec } from './index.js'

const silent = pino({ level: 'silent' })
const cleanups = cleanupsPerTest()
/** The hub reads the time from `clock`, which a test moves forward with `skewMs` when it needs time to pass. */
const time = skewedClockPerTest()
const { clock } = time

const partyKey = () => generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' }).x!
const session = () => randomBytes(32).toString('hex')

interface Hub {
  readonly hub: LinkHub
  readonly store: HubLinkStore
  readonly url: string
  /** The hub's service public key, which the parties pin. */
  readonly publicKey: KeyObject
  readonly app: ServiceApp
}

async function startHub(
  url: string,
  options: {
    serviceKey?: KeyObject
    verifyResult?: (job: LinkJob, result: LinkResult) => boolean
    /** Long by default, so that a prompt answer proves the in-process wake-up, not the re-check. */
    recheckMs?: number
    heartbeatMs?: number
    limits?: Partial<ServerLimits>
  } = {},
): Promise<Hub> {
  const database = openDatabase(url)
  cleanups.push(() => database.close())
  await migrate(database, HUB_LINK_MIGRATIONS, clock.now())
  const serviceKey = options.serviceKey ?? generateKeyPairSync('ed25519').privateKey
  const store = new HubLinkStore(database, clock)
  const hub = new LinkHub({
    store,
    serviceKey,
    clock,
    recheckMs: options.recheckMs ?? 60_000,
    ...(options.verifyResult ? { verifyResult: options.verifyResult } : {}),
  })
  const app = createServiceServer({
    log: silent,
    webSockets: { maxPayloadBytes: LINK_MAX_FRAME_BYTES },
    ...(options.limits === undefined ? {} : { limits: options.limits }),
  })
  await app.register(
    linkRoutes(hub, options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
  )
  const base = await listenOn(app, { host: '127.0.0.1', port: 0 }, false)
  cleanups.push(() => app.close())
  return { hub, store, url: base, publicKey: createPublicKey(serviceKey), app }
}

interface Answer {
  readonly status: number
  readonly body: Record<string, unknown>
}

async function call(hub: Hub, method: string, path: string, body?: unknown, token?: string): Promise<Answer> {
  const response = await fetch(`${hub.url}/cosigner/v1${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

/** The answer's body, after checking its status. */
async function ok(answer: Promise<Answer>): Promise<Record<string, unknown>> {
  const { status, body } = await answer
  expect(status, JSON.stringify(body)).toBe(200)
  return body
}

async function refusal(answer: Promise<Answer>, status: number, code: number): Promise<string> {
  const result = await answer
  expect(result.status, JSON.stringify(result.body)).toBe(status)
  expect(result.body['code']).toBe(code)
  expect(result.body['message']).toBeTypeOf('string')
  return result.body['message'] as string
}

async function accessToken(hub: Hub, refreshToken: string): Promise<string> {
  return (await ok(call(hub, 'POST', '/token', { refreshToken })))['accessToken'] as string
}

/** Pairs a customer co-signer for `apiUserId`; returns its refresh and access tokens. */
async function pairCustomer(hub: Hub, apiUserId: string) {
  const pairingToken = await hub.hub.issuePairingToken(apiUserId)
  const paired = await ok(call(hub, 'POST', '/pair', { pairingToken, partyKey: partyKey() }))
  const refreshToken = paired['refreshToken'] as string
  return { paired, refreshToken, access: await accessToken(hub, refreshToken) }
}

/** Enrols both cloud co-signers and one customer; returns each holder's access token. */
async function enrolHolders(hub: Hub, customer = 'user-1') {
  const cloud1 = await accessToken(hub, await hub.hub.registerCloud('cloud1', partyKey()))
  const cloud2 = await accessToken(hub, await hub.hub.registerCloud('cloud2', partyKey()))
  const { access } = await pairCustomer(hub, customer)
  return { cloud1, cloud2, [customer]: access } as Record<string, string>
}

const signJob = (customer = 'user-1'): SignJobSpec => ({
  kind: 'sign',
  algorithm: 'MPC_ECDSA_SECP256K1',
  holders: ['cloud1', 'cloud2', customer],
  session: session(),
  txId: 'tx-1',
  attempt: 1,
  path: [44, 60, 0, 0, 0],
  content: 'ab'.repeat(32),
  authorization: 'authorization.jws.here',
})

async function poll(hub: Hub, token: string, after = '0', wait = 0) {
  const body = await ok(call(hub, 'GET', `/messages?after=${after}&wait=${wait}`, undefined, token))
  return body as { messages: { cursor: string; message: string }[]; cursor: string }
}

/** Verifies a mailbox message under the hub's service key, as a party does, and returns its payload. */
async function opened(hub: Hub, message: string): Promise<LinkMessage> {
  const { payload, protectedHeader } = await compactVerify(message, hub.publicKey, {
    algorithms: ['EdDSA'],
  })
  expect(protectedHeader.typ).toBe(LINK_MESSAGE_TYPE)
  return LinkMessageSchema.parse(JSON.parse(new TextDecoder().decode(payload)))
}

const streamUrl = (hub: Hub, after = '0') =>
  `${hub.url.replace(/^http/, 'ws')}/cosigner/v1/stream?after=${after}`

interface Stream {
  readonly socket: WebSocket
  /** Every frame the hub pushed, in order. */
  readonly frames: StreamFrame[]
  /** How the socket ended: the close code and reason the hub sent (1006 when it was cut without one). */
  readonly closed: Promise<{ code: number; reason: string }>
}

/** The hub's pushed mailbox, opened as a party opens it. */
async function openStream(
  hub: Hub,
  token: string,
  after = '0',
  options: ClientOptions = {},
): Promise<Stream> {
  const socket = new WebSocket(streamUrl(hub, after), {
    headers: { authorization: `Bearer ${token}` },
    ...options,
  })
  cleanups.push(async () => socket.terminate())
  const frames: StreamFrame[] = []
  socket.on('message', (data) => frames.push(JSON.parse((data as Buffer).toString()) as StreamFrame))
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
  )
  await once(socket, 'open')
  return { socket, frames, closed }
}

/** The hub's answer to an upgrade it refuses (it fails the test by accepting it). */
async function refusedUpgrade(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  const socket = new WebSocket(url, { headers })
  socket.on('error', () => undefined)
  return new Promise((resolve, reject) => {
    socket.once('open', () => reject(new Error('the hub accepted the WebSocket')))
    socket.once('unexpected-response', (request, response) => {
      let text = ''
      response.on('data', (chunk: Buffer) => (text += String(chunk)))
      response.on('end', () => {
        request.destroy()
        resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> })
      })
    })
  })
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('the condition did not hold in time')
    await sleep(20)
  }
}

describe.each(testDatabases)('the co-signer link on $name', (database: TestDatabase) => {
  afterAll(() => database.dropAll())
  const hubOn = async (options?: Parameters<typeof startHub>[1]) =>
    startHub(await database.freshUrl(), options)

  describe('pairing', () => {
    it('exchanges a pairing token once for a refresh token, the hub key and the cloud peers', async () => {
      const hub = await hubOn()
      const cloud1Key = partyKey()
      await hub.hub.registerCloud('cloud1', cloud1Key)
      const pairingToken = await hub.hub.issuePairingToken('user-1', { cosignerName: 'vault room' })
      const request = { pairingToken, partyKey: partyKey() }
      const paired = await ok(call(hub, 'POST', '/pair', request))
      expect(paired).toMatchObject({ party: 'user-1', peers: { cloud1: cloud1Key } })
      expect(paired['hubKey']).toEqual(hub.publicKey.export({ format: 'jwk' }))
      expect(Buffer.from(paired['refreshToken'] as string, 'base64url')).toHaveLength(32)
      const message = await refusal(call(hub, 'POST', '/pair', request), 401, LINK_CODES.pairingTokenUsed)
      expect(message).toMatch(/already used/)
    })

    it('refuses an expired pairing token', async () => {
      const hub = await hubOn()
      const pairingToken = await hub.hub.issuePairingToken('user-1')
      expect(decodeJwt(pairingToken)).toMatchObject({ typ: 'pairing', sub: 'user-1', userId: 'user-1' })
      time.skewMs = 3_601_000
      const message = await refusal(
        call(hub, 'POST', '/pair', { pairingToken, partyKey: partyKey() }),
        401,
        LINK_CODES.pairingTokenExpired,
      )
      expect(message).toMatch(/expired/)
    })

    it('refuses a pairing token signed by another key, and an access token offered as one', async () => {
      const hub = await hubOn()
      const forger = generateKeyPairSync('ed25519').privateKey
      const iat = Math.floor(Date.now() / 1000)
      const forged = await new SignJWT({ typ: 'pairing', userId: 'user-1' })
        .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
        .setSubject('user-1')
        .setJti('forged')
        .setIssuedAt(iat)
        .setExpirationTime(iat + 3600)
        .sign(forger)
      await refusal(
        call(hub, 'POST', '/pair', { pairingToken: forged, partyKey: partyKey() }),
        401,
        LINK_CODES.pairingTokenInvalid,
      )
      const { access } = await pairCustomer(hub, 'user-1')
      await refusal(
        call(hub, 'POST', '/pair', { pairingToken: access, partyKey: partyKey() }),
        401,
        LINK_CODES.pairingTokenInvalid,
      )
    })

    it('never issues a pairing token that would enrol as a cloud co-signer', async () => {
      const hub = await hubOn()
      await expect(hub.hub.issuePairingToken('cloud1')).rejects.toThrow(/cloud co-signer/)
    })

    it('issues EdDSA access tokens of five minutes for the refresh token, and refuses an unknown one', async () => {
      const hub = await hubOn()
      const { access } = await pairCustomer(hub, 'user-1')
      const { payload } = await jwtVerify(access, hub.publicKey, { algorithms: ['EdDSA'] })
      expect(payload).toMatchObject({ typ: 'access', sub: 'user-1' })
      expect(payload.exp! - payload.iat!).toBe(300)
      await refusal(
        call(hub, 'POST', '/token', { refreshToken: randomBytes(32).toString('base64url') }),
        401,
        LINK_CODES.refreshTokenUnknown,
      )
    })

    it('revokes the old refresh token and access tokens when the same API user pairs again', async () => {
      const hub = await hubOn()
      const first = await pairCustomer(hub, 'user-1')
      time.skewMs = 2_000
      const second = await pairCustomer(hub, 'user-1')
      await refusal(
        call(hub, 'POST', '/token', { refreshToken: first.refreshToken }),
        401,
        LINK_CODES.refreshTokenRevoked,
      )
      await refusal(
        call(hub, 'GET', '/messages', undefined, first.access),
        401,
        LINK_CODES.accessTokenInvalid,
      )
      await ok(call(hub, 'GET', '/messages', undefined, second.access))
      expect(second.paired['cosignerId']).not.toBe(first.paired['cosignerId'])
    })

    it('locks a revoked party out at once, access token included', async () => {
      const hub = await hubOn()
      const { refreshToken, access } = await pairCustomer(hub, 'user-1')
      expect(await hub.hub.revokeParty('user-1')).toBe(true)
      await refusal(call(hub, 'POST', '/token', { refreshToken }), 401, LINK_CODES.refreshTokenRevoked)
      await refusal(call(hub, 'GET', '/messages', undefined, access), 401, LINK_CODES.accessTokenInvalid)
    })

    it('refuses a request without an access token, or with a forged one', async () => {
      const hub = await hubOn()
      await refusal(call(hub, 'GET', '/messages'), 401, LINK_CODES.accessTokenInvalid)
      const forged = await new SignJWT({ typ: 'access' })
        .setProtectedHeader({ alg: 'EdDSA' })
        .setSubject('cloud1')
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(generateKeyPairSync('ed25519').privateKey)
      await refusal(call(hub, 'GET', '/messages', undefined, forged), 401, LINK_CODES.accessTokenInvalid)
    })
  })

  describe('mailbox', () => {
    it('answers a waiting poll as soon as a message is posted', async () => {
      const hub = await hubOn()
      const tokens = await enrolHolders(hub)
      const started = Date.now()
      const waiting = poll(hub, tokens['cloud1']!, '0', 10)
      await new Promise((resolve) => setTimeout(resolve, 300))
      const job = await hub.hub.startJob(signJob())
      const { messages } = await waiting
      expect(Date.now() - started).toBeLessThan(2_000)
      expect(messages).toHaveLength(1)
      const message = await opened(hub, messages[0]!.message)
      expect(message).toMatchObject({ to: 'cloud1', kind: 'sign', body: { job: job.id, txId: 'tx-1' } })
    })

    it('records the process each poll names, waits no longer than a heartbeat, refuses a malformed name', async () => {
      const hub = await hubOn({ heartbeatMs: 1_000 })
      const tokens = await enrolHolders(hub)
      const started = Date.now()
      await ok(call(hub, 'GET', '/messages?wait=5&instance=first-run', undefined, tokens['user-1']))
      expect(Date.now() - started).toBeLessThan(4_000)
      expect((await hub.store.party('user-1'))?.instance).toBe('first-run')
      await ok(call(hub, 'GET', '/messages?instance=after-restart', undefined, tokens['user-1']))
      expect((await hub.store.party('user-1'))?.instance).toBe('after-restart')
      await refusal(
        call(hub, 'GET', '/messages?instance=not%20one', undefined, tokens['user-1']),
        400,
        LINK_CODES.invalidRequest,
      )
      expect((await hub.store.party('user-1'))?.instance).toBe('after-restart')
    })

    it('answers an empty poll after `wait`, and records the heartbeat', async () => {
      const hub = await hubOn()
      const tokens = await enrolHolders(hub)
      const started = Date.now()
      expect(await poll(hub, tokens['cloud2']!, '0', 1)).toEqual({ messages: [], cursor: '0' })
      expect(Date.now() - started).toBeGreaterThanOrEqual(950)
      expect(Date.now() - started).toBeLessThan(3_000)
      expect((await hub.hub.lastSeen('cloud2'))!.getTime()).toBeGreaterThanOrEqual(started)
      await refusal(
        call(hub, 'GET', '/messages?wait=26', undefined, tokens['cloud2']),
        400,
        LINK_CODES.invalidRequest,
      )
    })

    it('forgets acknowledged messages, and keeps cursors increasing after them', async () => {
      const hub = await hubOn()
      const tokens = await enrolHolders(hub)
      await hub.hub.startJob(signJob())
      await hub.hub.startJob(signJob())
      const first = await poll(hub, tokens['user-1']!)
      expect(first.messages.map((entry) => entry.cursor)).toEqual(['1', '2'])
      expect(first.cursor).toBe('2')
      await ok(call(hub, 'POST', '/ack', { cursor: first.cursor }, tokens['user-1']))
      expect((await poll(hub, tokens['user-1']!)).messages).toEqual([])
      await hub.hub.startJob(signJob())
      expect((await poll(hub, tokens['user-1']!)).messages.map((entry) => entry.cursor)).toEqual(['3'])
    })

    it('signs every message for its addressee with the service key, and with distinct ids', async () => {
      const hub = await hubOn()
      const tokens = await enrolHolders(hub)
      const job = await hub.hub.startJob(signJob())
      const ids = new Set<string>()
      for (const holder of job.holders) {
        const [entry] = (await poll(hub, tokens[holder]!)).messages
        const message = await opened(hub, entry!.message)
        expect(message.to).toBe(holder)
        ids.add(message.id)
        if (message.kind !== 'sign') throw new Error('expected the sign message')
        expect(Object.keys(message.body.peers).sort()).toEqual(['cloud1', 'cloud2', 'user-1'])
      }
      expect(ids.size).toBe(3)
      const other = generateKeyPairSync('ed25519').publicKey
      const [entry] = (await poll(hub, tokens['cloud1']!)).messages
      await expect(compactVerify(entry!.message, other)).rejects.toThrow()
    })
  })

  describe('relay', () => {
    it('re-addresses an envelope from its authenticated sender, to a holder of its session only', async () => {
      const hub = await hubOn()
      const tokens = await enrolHolders(hub)
      const outsider = (await pairCustomer(hub, 'user-2')).access
      const job = signJob()
      await hub.hub.startJob(job)
      const envelope = { session: job.session, to: 'user-1', round: 1, body: 'c2VhbGVk' }

      await refusal(
        call(hub, 'POST', '/envelopes', { envelopes: [envelope] }, outsider),
        403,
        LINK_CODES.notAHolder,
      )
      const toOutsider = { ...envelope, to: 'user-2' }
      await refusal(
        call(hub, 'POST', '/envelopes', { envelopes: [toOutsider] }, tokens['cloud1']),
        403,
        LINK_CODES.notAHolder,
      )
      await refusal(
        call(
          hub,
          'POST',
          '/envelopes',
          { envelopes: [{ ...envelope, session: session() }] },
          tokens['cloud1'],
        ),
        404,
        LINK_CODES.unknownSession,
      )
      // A sender may not name itself: the field does not exist on the wire and is refused.
      await refusal(
        call(hub, 'POST', '/envelopes', { envelopes: [{ ...envelope, from: 'cloud2' }] }, tokens['cloud1']),
        400,
        LINK_CODES.invalidRequest,
      )

      await ok(call(hub, 'POST', '/envelopes', { envelopes: [envelope] }, tokens['cloud1']))
      const relayed = (await poll(hub, tokens['user-1']!, '1')).messages.map((entry) =>
        opened(hub, entry.message),
      )
      const messages = await Promise.all(relayed)
      expect(messages).toHaveLength(1)
      expect(messages[0]).toMatchObject({
        to: 'user-1',
        kind: 'mpc',
        body: { session: job.session, from: 'cloud1', round: 1, body: 'c2VhbGVk' },
      })
      expect((await poll(hub, outsider)).messages).toEqual([])
    })

    it('relays nothing more for a cancelled job, and tells its holders', async () => {
      const hub = await hubOn()
      const tokens = await enrolHolders(hub)
      const job = signJob()
      const started = await hub.hub.startJob(job)
      expect(await hub.hub.cancelJob(started.id, 'attempt superseded')).toBe(true)
      expect(await hub.hub.cancelJob(started.id, 'again')).toBe(false)
      const cancel = await opened(hub, (await poll(hub, tokens['cloud2']!, '1')).messages[0]!.message)
      expect(cancel).toMatchObject({
        kind: 'cancel',
        body: { job: started.id, reason: 'attempt superseded' },
      })
      const envelope = { session: job.session, to: 'user-1', round: 2, body: 'eA' }
      await refusal(
        call(hub, 'POST', '/envelopes', { envelopes: [envelope] }, tokens['cloud1']),
        409,
        LINK_CODES.jobClosed,
      )
    })
  })

  describe('results', () => {
    const good = { r: '1'.repeat(64), s: '2'.repeat(64), v: 0 as const }
    const verifyResult = (_job: LinkJob, result: LinkResult) =>
      typeof result.signature === 'object' && result.signature.r !== '0'.repeat(64)

    it('records the first valid result, ignores later ones and never stores a rejected one', async () => {
      const hub = await hubOn({ verifyResult })
      const tokens = await enrolHolders(hub)
      const job = await hub.hub.startJob(signJob())
      const waiting = hub.hub.waitForJob(job.id, AbortSignal.timeout(5_000))

      const forged = { job: job.id, outcome: 'done', signature: { ...good, r: '0'.repeat(64) } }
      await refusal(call(hub, 'POST', '/results', forged, tokens['cloud1']), 422, LINK_CODES.resultRejected)
      expect((await hub.hub.jobResult(job.id))?.state).toBe('pending')

      const outsider = (await pairCustomer(hub, 'user-2')).access
      const done = { job: job.id, outcome: 'done', signature: good }
      await refusal(call(hub, 'POST', '/results', done, outsider), 403, LINK_CODES.notAHolder)

      expect(await ok(call(hub, 'POST', '/results', done, tokens['cloud2']))).toEqual({
        job: job.id,
        state: 'done',
        recorded: true,
      })
      const later = { job: job.id, outcome: 'done', signature: { ...good, s: '3'.repeat(64) } }
      expect(await ok(call(hub, 'POST', '/results', later, tokens['user-1']))).toMatchObject({
        recorded: false,
      })
      const failed = { job: job.id, outcome: 'failed', reason: 'late' }
      expect(await ok(call(hub, 'POST', '/results', failed, tokens['cloud1']))).toMatchObject({
        state: 'done',
        recorded: false,
      })

      const finished = await waiting
      expect(finished).toMatchObject({ state: 'done', result: { from: 'cloud2', signature: good } })
      expect(await hub.hub.jobResult(job.id)).toEqual(finished)
    })

    it('finishes a key generation only once every holder reported the same key', async () => {
      const hub = await hubOn()
      const tokens = await enrolHolders(hub)
      const keygen = {
        kind: 'keygen' as const,
        algorithm: 'MPC_EDDSA_ED25519' as const,
        holders: ['cloud1', 'cloud2', 'user-1'] as const,
      }
      const job = await hub.hub.startJob({ ...keygen, session: session() })
      const report = (token: string | undefined, publicKey = 'aa'.repeat(32)) =>
        ok(
          call(
            hub,
            'POST',
            '/results',
            { job: job.id, outcome: 'done', publicKey, chainCode: 'cc'.repeat(32) },
            token,
          ),
        )
      await report(tokens['cloud1'])
      await report(tokens['cloud1'])
      await report(tokens['cloud2'])
      expect((await hub.hub.jobResult(job.id))?.state).toBe('pending')
      await report(tokens['user-1'])
      expect(await hub.hub.jobResult(job.id)).toMatchObject({
        state: 'done',
        result: { publicKey: 'aa'.repeat(32) },
      })

      const split = await hub.hub.startJob({ ...keygen, session: session() })
      for (const [holder, key] of [
        ['cloud1', 'aa'],
        ['cloud2', 'aa'],
        ['user-1', 'bb'],
      ] as const)
        await ok(
          call(
            hub,
            'POST',
            '/results',
            { job: split.id, outcome: 'done', publicKey: key.repeat(32), chainCode: 'cc'.repeat(32) },
            tokens[holder],
          ),
        )
      expect((await hub.hub.jobResult(split.id))?.state).toBe('failed')
    })

    it('stops waiting for a job when the signal aborts', async () => {
      const hub = await hubOn()
      await enrolHolders(hub)
      const job = await hub.hub.startJob(signJob())
      await expect(hub.hub.waitForJob(job.id, AbortSignal.timeout(300))).rejects.toThrow(/timed out|abort/i)
    })
  })
  describe('a reshare', () => {
    const workspaceKey = { publicKey: 'aa'.repeat(33), chainCode: 'cc'.repeat(32) }
    /** The clouds and user-2 (the new holders), user-1 (the dealing co-signer), user-3 (taking no part). */
    async function reshareOn(hub: Hub) {
      const tokens = await enrolHolders(hub, 'user-2')
      tokens['user-1'] = (await pairCustomer(hub, 'user-1')).access
      const outsider = (await pairCustomer(hub, 'user-3')).access
      const relayed = session()
      const job = await hub.hub.startJob({
        kind: 'keygen',
        algorithm: 'MPC_ECDSA_SECP256K1',
        holders: ['cloud1', 'cloud2', 'user-2'],
        session: relayed,
        reshare: {
          dealers: ['cloud1', 'cloud2', 'user-1'],
          expectedPublicKey: workspaceKey.publicKey,
          expectedChainCode: workspaceKey.chainCode,
        },
      })
      return { tokens, outsider, job, session: relayed }
    }
    const report = (hub: Hub, token: string | undefined, body: Record<string, unknown>) =>
      call(hub, 'POST', '/results', body, token)

    it('reaches every participant, dealers included, each with every participant’s key', async () => {
      const hub = await hubOn()
      const { tokens, outsider, job } = await reshareOn(hub)
      expect(job).toMatchObject({
        holders: ['cloud1', 'cloud2', 'user-2'],
        participants: ['cloud1', 'cloud2', 'user-2', 'user-1'],
      })
      for (const party of ['cloud1', 'cloud2', 'user-2', 'user-1']) {
        const [entry] = (await poll(hub, tokens[party]!)).messages
        const message = await opened(hub, entry!.message)
        if (message.kind !== 'keygen') throw new Error(`expected the keygen message, got ${message.kind}`)
        expect(message.to).toBe(party)
        expect(message.body).toMatchObject({
          job: job.id,
          holders: ['cloud1', 'cloud2', 'user-2'],
          reshare: { dealers: ['cloud1', 'cloud2', 'user-1'], expectedPublicKey: workspaceKey.publicKey },
        })
        expect(Object.keys(message.body.peers).sort()).toEqual(['cloud1', 'cloud2', 'user-1', 'user-2'])
      }
      expect((await poll(hub, outsider)).messages).toEqual([])
    })

    it('relays between the dealer and a new holder, never to or from a party taking no part', async () => {
      const hub = await hubOn()
      const { tokens, outsider, job, session: relayedSession } = await reshareOn(hub)
      const envelope = { session: relayedSession, to: 'user-2', round: 1, body: 'ZnJhZ21lbnQ' }
      await ok(call(hub, 'POST', '/envelopes', { envelopes: [envelope] }, tokens['user-1']))
      await ok(
        call(hub, 'POST', '/envelopes', { envelopes: [{ ...envelope, to: 'user-1' }] }, tokens['user-2']),
      )
      const relayed = async (party: string) =>
        Promise.all(
          (await poll(hub, tokens[party]!, '1')).messages.map((entry) => opened(hub, entry.message)),
        )
      expect(await relayed('user-2')).toMatchObject([{ kind: 'mpc', body: { from: 'user-1', round: 1 } }])
      expect(await relayed('user-1')).toMatchObject([{ kind: 'mpc', body: { from: 'user-2', round: 1 } }])

      await refusal(
        call(hub, 'POST', '/envelopes', { envelopes: [{ ...envelope, to: 'user-3' }] }, tokens['user-1']),
        403,
        LINK_CODES.notAHolder,
      )
      await refusal(
        call(hub, 'POST', '/envelopes', { envelopes: [envelope] }, outsider),
        403,
        LINK_CODES.notAHolder,
      )
      await refusal(report(hub, outsider, { job: job.id, outcome: 'failed' }), 403, LINK_CODES.notAHolder)
      expect((await poll(hub, outsider)).messages).toEqual([])
    })

    it('is done once every holder reported the workspace key; the dealer’s done is recorded, not counted', async () => {
      // Like the hub's verifier: a key generation's done must carry a key, but only a holder's is checked.
      const verifyResult = (_job: LinkJob, result: LinkResult) => result.publicKey !== undefined
      const hub = await hubOn({ verifyResult })
      const { tokens, job } = await reshareOn(hub)
      const waiting = hub.hub.waitForJob(job.id, AbortSignal.timeout(5_000))
      const done = { job: job.id, outcome: 'done', ...workspaceKey }

      expect(await ok(report(hub, tokens['user-1'], { job: job.id, outcome: 'done' }))).toMatchObject({
        state: 'pending',
        recorded: true,
      })
      await refusal(
        report(hub, tokens['user-2'], { job: job.id, outcome: 'done' }),
        422,
        LINK_CODES.resultRejected,
      )
      await ok(report(hub, tokens['cloud1'], done))
      await ok(report(hub, tokens['cloud2'], done))
      expect((await hub.hub.jobResult(job.id))?.state).toBe('pending')
      expect(await ok(report(hub, tokens['user-2'], done))).toMatchObject({ state: 'done', recorded: true })
      expect(await waiting).toMatchObject({ state: 'done', result: { from: 'user-2', ...workspaceKey } })
    })

    it('fails at once on a holder reporting another public key or chain code, and on a dealer that failed', async () => {
      const hub = await hubOn()
      const cases = [
        {
          from: 'cloud2',
          report: { outcome: 'done', ...workspaceKey, publicKey: 'bb'.repeat(33) },
          why: /public key/,
        },
        {
          from: 'user-2',
          report: { outcome: 'done', ...workspaceKey, chainCode: 'dd'.repeat(32) },
          why: /chain code/,
        },
        {
          from: 'user-1',
          report: { outcome: 'failed', reason: 'no share to deal' },
          why: /no share to deal/,
        },
      ]
      const { tokens } = await reshareOn(hub)
      for (const { from, report: body, why } of cases) {
        const job = await hub.hub.startJob({
          kind: 'keygen',
          algorithm: 'MPC_ECDSA_SECP256K1',
          holders: ['cloud1', 'cloud2', 'user-2'],
          session: session(),
          reshare: {
            dealers: ['cloud1', 'cloud2', 'user-1'],
            expectedPublicKey: workspaceKey.publicKey,
            expectedChainCode: workspaceKey.chainCode,
          },
        })
        await ok(report(hub, tokens['cloud1'], { job: job.id, outcome: 'done', ...workspaceKey }))
        expect(await ok(report(hub, tokens[from], { job: job.id, ...body }))).toMatchObject({
          state: 'failed',
          recorded: true,
        })
        const failed = await hub.hub.jobResult(job.id)
        expect(failed?.state).toBe('failed')
        expect(String(failed?.result?.['reason'])).toMatch(why)
      }
    })

    it('tells the dealer too when it is cancelled', async () => {
      const hub = await hubOn()
      const { tokens, job } = await reshareOn(hub)
      expect(await hub.hub.cancelJob(job.id, 'the hub stops')).toBe(true)
      const cancel = await opened(hub, (await poll(hub, tokens['user-1']!, '1')).messages[0]!.message)
      expect(cancel).toMatchObject({ kind: 'cancel', body: { job: job.id, reason: 'the hub stops' } })
    })
  })

  describe('the mailbox pushed over a WebSocket', () => {
    it('pushes the messages after the cursor asked, then each one as it is posted; an ack frame forgets them', async () => {
      const hub = await hubOn()
      const tokens = await enrolHolders(hub)
      await hub.hub.startJob(signJob())
      await hub.hub.startJob(signJob())
      const stream = await openStream(hub, tokens['user-1']!, '1')
      await until(() => stream.frames.length === 1)
      expect(stream.frames).toEqual((await poll(hub, tokens['user-1']!, '1')).messages)
      const job = await hub.hub.startJob(signJob())
      await until(() => stream.frames.length === 2)
      expect(stream.frames[1]!.cursor).toBe('3')
      expect(await opened(hub, stream.frames[1]!.message)).toMatchObject({
        to: 'user-1',
        kind: 'sign',
        body: { job: job.id },
      })
      stream.socket.send(JSON.stringify({ ack: '3' }))
      await until(async () => (await poll(hub, tokens['user-1']!)).messages.length === 0)
      expect(stream.socket.readyState).toBe(WebSocket.OPEN)
    })

    it('refuses an upgrade without a valid access token, or with a bad cursor, before pushing anything', async () => {
      const hub = await hubOn()
      const tokens = await enrolHolders(hub)
      await hub.hub.startJob(signJob())
      expect(await refusedUpgrade(streamUrl(hub))).toMatchObject({
        status: 401,
        body: { code: LINK_CODES.accessTokenInvalid, message: expect.stringMatching(/Bearer/) },
      })
      const forged = await new SignJWT({ typ: 'access' })
        .setProtectedHeader({ alg: 'EdDSA' })
        .setSubject('user-1')
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(generateKeyPairSync('ed25519').privateKey)
      expect(await refusedUpgrade(streamUrl(hub), { authorization: `Bearer ${forged}` })).toMatchObject({
        status: 401,
        body: { code: LINK_CODES.accessTokenInvalid, message: expect.stringMatching(/not signed/) },
      })
      const bearer = { authorization: `Bearer ${tokens['user-1']!}` }
      expect(await refusedUpgrade(streamUrl(hub, 'x'), bearer)).toMatchObject({
        status: 400,
        body: { code: LINK_CODES.invalidRequest },
      })
      await refusal(call(hub, 'GET', '/stream', undefined, tokens['user-1']), 426, LINK_CODES.invalidRequest)
    })

    it('closes the socket on a frame that is not an ack (1008) and on one over 4 MiB (1009)', async () => {
      const hub = await hubOn()
      const tokens = await enrolHolders(hub)
      const token = tokens['cloud1']!
      for (const frame of ['hello', JSON.stringify({ ack: '1', extra: true }), JSON.stringify({ ack: 1 })]) {
        const stream = await openStream(hub, token)
        stream.socket.send(frame)
        expect((await stream.closed).code).toBe(1008)
      }
      const binary = await openStream(hub, token)
      binary.socket.send(Buffer.from(JSON.stringify({ ack: '1' })))
      expect((await binary.closed).code).toBe(1008)
      const large = await openStream(hub, token)
      large.socket.send(JSON.stringify({ ack: '1', pad: 'x'.repeat(LINK_MAX_FRAME_BYTES) }))
      expect((await large.closed).code).toBe(1009)
    })

    it('pings an idle socket: each pong is a heartbeat, and a peer that stops answering is cut', async () => {
      const hub = await hubOn({ heartbeatMs: 100 })
      const tokens = await enrolHolders(hub)
      const stream = await openStream(hub, tokens['cloud1']!)
      await sleep(150)
      const seen = (await hub.hub.lastSeen('cloud1'))!.getTime()
      // The stream's own read of the mailbox happens once per 25 s: what moves lastSeen now is the pongs.
      await until(async () => (await hub.hub.lastSeen('cloud1'))!.getTime() > seen)
      const mute = await openStream(hub, tokens['cloud2']!, '0', { autoPong: false })
      const started = Date.now()
      expect((await mute.closed).code).toBe(1006)
      expect(Date.now() - started).toBeLessThan(1_000)
      expect(stream.socket.readyState).toBe(WebSocket.OPEN)
    })

    it('records a party that closes with 1000 as gone until it is heard from again; another close is not', async () => {
      const hub = await hubOn()
      const tokens = await enrolHolders(hub)
      const leftAt = async (party: string) => (await hub.store.party(party))?.leftAt ?? null
      const cut = await openStream(hub, tokens['cloud2']!)
      cut.socket.terminate()
      const stopping = await openStream(hub, tokens['user-1']!)
      stopping.socket.close(1000, 'the party stopped')
      await until(async () => (await leftAt('user-1')) !== null)
      const party = await hub.store.party('user-1')
      expect(party!.leftAt).toBeGreaterThanOrEqual(party!.lastSeen!)
      expect(await leftAt('cloud2')).toBeNull()
      time.skewMs += 5 // the next poll comes later than the goodbye
      await poll(hub, tokens['user-1']!)
      const back = await hub.store.party('user-1')
      expect(back!.lastSeen).toBeGreaterThan(back!.leftAt!)
    })

    it('closes with 4401 once the access token no longer authenticates: party revoked, token expired', async () => {
      const hub = await hubOn({ heartbeatMs: 100 })
      const tokens = await enrolHolders(hub)
      const cloud = await openStream(hub, tokens['cloud1']!)
      const customer = await openStream(hub, tokens['user-1']!)
      await hub.hub.revokeParty('user-1')
      expect(await customer.closed).toEqual({ code: 4401, reason: expect.stringMatching(/revoked/) })
      expect(cloud.socket.readyState).toBe(WebSocket.OPEN)
      time.skewMs = 301_000
      expect(await cloud.closed).toEqual({ code: 4401, reason: expect.stringMatching(/expired/) })
    })

    it('closes every socket with 1001 when the hub stops, without holding up the stop', async () => {
      const hub = await hubOn()
      const tokens = await enrolHolders(hub)
      const stream = await openStream(hub, tokens['cloud1']!)
      const started = Date.now()
      await hub.app.close()
      expect(Date.now() - started).toBeLessThan(1_000)
      expect((await stream.closed).code).toBe(1001)
    })

    it("keeps a socket open past the server's request, header and idle timeouts", async () => {
      const hub = await hubOn({
        limits: { requestTimeoutMs: 200, headersTimeoutMs: 200, idleTimeoutMs: 200, keepAliveTimeoutMs: 200 },
      })
      const tokens = await enrolHolders(hub)
      const stream = await openStream(hub, tokens['cloud1']!)
      await sleep(1_000)
      await hub.hub.startJob(signJob())
      await until(() => stream.frames.length === 1)
      expect(stream.socket.readyState).toBe(WebSocket.OPEN)
    })
  })
})

describe.skipIf(pgUrl === undefined)('the co-signer link across two hub replicas on PostgreSQL', () => {
  afterAll(() => postgresDatabase.dropAll())

  it('delivers to a poll on one replica what the other posts, and relays across them', async () => {
    const url = await postgresDatabase.freshUrl()
    const serviceKey = generateKeyPairSync('ed25519').privateKey
    const [first, second] = [
      await startHub(url, { serviceKey, recheckMs: 200 }),
      await startHub(url, { serviceKey, recheckMs: 200 }),
    ]
    const tokens = await enrolHolders(first)

    const started = Date.now()
    const waiting = poll(second, tokens['cloud1']!, '0', 10)
    await new Promise((resolve) => setTimeout(resolve, 300))
    const job = signJob()
    await first.hub.startJob(job)
    const { messages } = await waiting
    expect(Date.now() - started).toBeLessThan(3_000)
    expect(await opened(second, messages[0]!.message)).toMatchObject({ to: 'cloud1', kind: 'sign' })

    const envelope = { session: job.session, to: 'cloud2', round: 1, body: 'eA' }
    await ok(call(second, 'POST', '/envelopes', { envelopes: [envelope] }, tokens['user-1']))
    const relayed = (await poll(first, tokens['cloud2']!, '1', 5)).messages
    expect(await opened(first, relayed[0]!.message)).toMatchObject({ kind: 'mpc', body: { from: 'user-1' } })
  })
})
