import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Fireblocks } from '@fireblocks/ts-sdk'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testKeyPair, type TestKeyPair } from '../../../test/support/keys.js'
import { sqliteDatabase } from '../../../test/support/databases.js'
import { systemClock, type Clock } from '../../core/index.js'
import { createCsr, diagnoseRequest, signRequest } from '../../keys/index.js'
import { createServiceServer, type ServiceApp, type ServicePlugin } from '../../service/index.js'
import {
  HUB_AUTH_MIGRATIONS,
  migrate,
  openDatabase,
  type ApiUserRecord,
  type StorageDatabase,
} from '../../storage/index.js'
import { forgeAlgNone, forgeHs256WithPublicKey } from '../../testing/index.js'
import { apiUserRoutes } from './api-user-routes.js'
import { API_CODES } from './api-error.js'
import { registerApiUser, setAllowedIps } from './api-users.js'
import { restAuthentication } from './authenticate.js'
import { INITIATORS, READERS } from './roles.js'
import { KEY_REUSED_AFTER_INTERNAL_ERROR } from './idempotency.js'

const ACCOUNTS = '/v1/vault/accounts_paged?namePrefix=a+b%26c&orderBy=ASC&limit=10'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

/** The routes of the tests: a transaction create (initiators), a paged read (readers), a failing create. */
const testRoutes: ServicePlugin = async (app) => {
  app.post('/v1/transactions', { config: { roles: INITIATORS } }, async (request) => ({
    id: randomUUID(),
    status: 'SUBMITTED',
    received: request.body,
  }))
  app.post('/v1/transactions/:txId/cancel', { config: { roles: INITIATORS } }, async (request) => ({
    success: request.body === undefined,
  }))
  app.get('/v1/vault/accounts_paged', { config: { roles: READERS } }, async () => ({
    accounts: [],
    paging: {},
  }))
  app.post('/v1/failing', { config: { roles: INITIATORS } }, async () => {
    throw new Error('the database fell over')
  })
}

interface User {
  readonly record: ApiUserRecord
  readonly keys: TestKeyPair
}

async function startHub(database: StorageDatabase): Promise<{ app: ServiceApp; base: string }> {
  const log = pino({ level: 'silent' })
  const app = createServiceServer({
    log,
    errorBody: () => ({ message: 'Internal error', code: API_CODES.internal }),
  })
  await app.register(restAuthentication({ database, routes: [apiUserRoutes(database), testRoutes], log }))
  const address = await app.listen({ host: '127.0.0.1', port: 0 })
  return { app, base: address }
}

describe('REST request authentication of the hub', () => {
  let url: string
  let database: StorageDatabase
  let app: ServiceApp
  let base: string
  let admin: User
  let viewer: User
  let editor: User

  const register = async (name: string, role: string): Promise<User> => {
    const keys = testKeyPair(`hub-${name}`)
    const csrPem = createCsr(keys.privateKey, `/CN=${name}`)
    return { record: await registerApiUser(database, { name, role, csrPem }, Date.now()), keys }
  }

  beforeAll(async () => {
    url = await sqliteDatabase.freshUrl()
    database = openDatabase(url)
    await migrate(database, HUB_AUTH_MIGRATIONS, Date.now())
    admin = await register('admin', 'ADMIN')
    viewer = await register('viewer', 'VIEWER')
    editor = await register('editor', 'EDITOR')
    ;({ app, base } = await startHub(database))
  })
  afterAll(async () => {
    await app?.close()
    await database?.close()
    await sqliteDatabase.dropAll()
  })

  interface Call {
    readonly method?: string
    readonly path: string
    readonly body?: string
    readonly user?: User
    /** Signs with this key instead of the user's. */
    readonly privateKey?: TestKeyPair['privateKey']
    readonly signedPath?: string
    readonly signedBody?: string
    readonly clock?: Clock
    readonly headers?: Record<string, string>
    readonly nonce?: string
  }

  /** A request signed as the SDK signs it (or with the stated flaw), and what it takes to send it. */
  async function build(call: Call) {
    const user = call.user ?? admin
    const { headers } = await signRequest({
      apiKey: user.record.id,
      privateKey: call.privateKey ?? user.keys.privateKey,
      url: call.signedPath ?? call.path,
      ...((call.signedBody ?? call.body) !== undefined ? { body: call.signedBody ?? call.body } : {}),
      ...(call.clock === undefined ? {} : { clock: call.clock }),
      ...(call.nonce === undefined ? {} : { nonce: call.nonce }),
    })
    return { ...call, headers: { ...headers, ...call.headers } }
  }

  interface Outgoing {
    readonly method?: string
    readonly path: string
    readonly body?: string
    readonly headers: Readonly<Record<string, string>>
    readonly user?: User
  }

  /** Sends exact bytes: the SDK's headers (Content-Type JSON on every request), the body as given. */
  async function send(request: Outgoing) {
    const response = await fetch(`${base}${request.path}`, {
      method: request.method ?? 'GET',
      headers: { 'content-type': 'application/json', ...request.headers },
      ...(request.body === undefined ? {} : { body: request.body }),
    })
    const text = await response.text()
    return {
      status: response.status,
      body: text.length > 0 ? (JSON.parse(text) as unknown) : undefined,
      requestId: response.headers.get('x-request-id'),
    }
  }

  /** What `diagnoseRequest` says of the same request, given what the caller knows. */
  async function diagnose(request: Outgoing, user: User = request.user ?? admin) {
    const diagnosis = await diagnoseRequest({
      registeredKey: user.keys.publicKey,
      jwt: request.headers['Authorization'] ?? '',
      url: request.path,
      body: Buffer.from(request.body ?? ''),
      apiKey: request.headers['X-API-Key'] ?? '',
    })
    return diagnosis.cause
  }

  const offset = (seconds: number): Clock => ({ ...systemClock, now: () => Date.now() + seconds * 1000 })

  it('accepts a signed read, with an X-Request-ID', async () => {
    const answer = await send(await build({ path: ACCOUNTS, user: viewer }))
    expect(answer).toMatchObject({ status: 200, body: { accounts: [] } })
    expect(answer.requestId).toMatch(UUID)
  })

  const refusals: [string, () => Promise<Outgoing>, number, string, string][] = [
    [
      'a JWT signed with another private key',
      () => build({ path: ACCOUNTS, privateKey: testKeyPair('stranger').privateKey }),
      -1,
      'invalid signature',
      'invalid_signature',
    ],
    [
      'a uri of another path',
      () => build({ path: ACCOUNTS, signedPath: '/v1/vault/accounts_paged?limit=10' }),
      -4,
      'Unauthorized: Wrong URL in the JWT.',
      'wrong_uri',
    ],
    [
      'a body altered after signing',
      () =>
        build({
          method: 'POST',
          path: '/v1/transactions',
          signedBody: '{"amount":"1"}',
          body: '{"amount":"1000"}',
        }),
      -7,
      'Unauthorized: Token was not accepted.',
      'body_hash_mismatch',
    ],
    [
      'an expired token',
      () => build({ path: ACCOUNTS, clock: offset(-120) }),
      -10,
      'The request has expired.',
      'expired',
    ],
    [
      'a token issued in the future',
      () => build({ path: ACCOUNTS, clock: offset(60) }),
      -12,
      'The request is with a future issuance timestamp (iat).',
      'issued_in_future',
    ],
    [
      'alg: none',
      async () => {
        const { headers } = await build({ path: ACCOUNTS })
        const claims = JSON.parse(Buffer.from(headers.Authorization.split('.')[1]!, 'base64url').toString())
        return { path: ACCOUNTS, headers: { ...headers, Authorization: `Bearer ${forgeAlgNone(claims)}` } }
      },
      -7,
      'Unauthorized: Token was not accepted.',
      'algorithm_not_allowed',
    ],
    [
      'HS256 keyed with the public key',
      async () => {
        const { headers } = await build({ path: ACCOUNTS })
        const claims = JSON.parse(Buffer.from(headers.Authorization.split('.')[1]!, 'base64url').toString())
        const forged = forgeHs256WithPublicKey(claims, admin.keys.publicPem)
        return { path: ACCOUNTS, headers: { ...headers, Authorization: `Bearer ${forged}` } }
      },
      -7,
      'Unauthorized: Token was not accepted.',
      'algorithm_not_allowed',
    ],
  ]

  it.each(refusals)(
    'refuses %s with its code, and diagnoseRequest names the same cause',
    async (_, make, code, message, reason) => {
      const request = await make()
      const answer = await send(request)
      expect(answer).toMatchObject({ status: 401, body: { message, code } })
      expect(answer.requestId).toMatch(UUID)
      expect(await diagnose(request)).toMatchObject({ reason, apiCode: code, apiMessage: message })
    },
  )

  it('refuses a replayed request, here and on a second server on the same database (−7)', async () => {
    const request = await build({ path: ACCOUNTS })
    expect((await send(request)).status).toBe(200)
    expect(await send(request)).toMatchObject({
      status: 401,
      body: { code: -7, message: 'Unauthorized: Token was not accepted.' },
    })
    const replicaDatabase = openDatabase(url)
    const replica = await startHub(replicaDatabase)
    try {
      const answer = await fetch(`${replica.base}${request.path}`, { headers: request.headers })
      expect(answer.status).toBe(401)
      expect(await answer.json()).toEqual({ code: -7, message: 'Unauthorized: Token was not accepted.' })
    } finally {
      await replica.app.close()
      await replicaDatabase.close()
    }
    // The JWT itself is sound: what refused it is the server's memory of the nonce.
    expect(await diagnose(request)).toBeUndefined()
  })

  it('refuses an unknown API key (−7) without looking further', async () => {
    const request = await build({ path: ACCOUNTS, headers: { 'X-API-Key': randomUUID() } })
    const answer = await send(request)
    expect(answer).toMatchObject({
      status: 401,
      body: { code: -7, message: 'Unauthorized: Token was not accepted.' },
    })
    expect(answer.requestId).toMatch(UUID)
    expect((await send({ path: ACCOUNTS, headers: {} })).body).toMatchObject({ code: -7 })
  })

  it('refuses an address outside the allow-list (−7), and admits it once listed', async () => {
    await setAllowedIps(database, editor.record.id, ['10.9.8.7'])
    const refused = await send(await build({ path: ACCOUNTS, user: editor }))
    expect(refused).toMatchObject({ status: 401, body: { code: -7 } })
    await setAllowedIps(database, editor.record.id, ['10.9.8.7', '127.0.0.1/32'])
    expect((await send(await build({ path: ACCOUNTS, user: editor }))).status).toBe(200)
    await setAllowedIps(database, editor.record.id, [])
    await expect(setAllowedIps(database, editor.record.id, ['10.0.0.0/8'])).rejects.toThrow(/IPv4/)
  })

  it('refuses a Viewer creating a transaction with −8, after verifying who it is', async () => {
    const request = await build({
      method: 'POST',
      path: '/v1/transactions',
      body: '{"amount":"1"}',
      user: viewer,
    })
    const answer = await send(request)
    expect(answer).toMatchObject({ status: 401, body: { code: -8, message: 'Insufficient permissions' } })
    expect(answer.requestId).toMatch(UUID)
    // The request is sound; the role is the server's to judge.
    expect(await diagnose(request)).toBeUndefined()
    const editorAnswer = await send(
      await build({ method: 'POST', path: '/v1/transactions', body: '{"amount":"1"}', user: editor }),
    )
    expect(editorAnswer).toMatchObject({ status: 200, body: { received: { amount: '1' } } })
  })

  it('replays an Idempotency-Key, refuses it for another body, and after a 5xx', async () => {
    const post = (body: string, key: string, path = '/v1/transactions') =>
      build({ method: 'POST', path, body, headers: { 'Idempotency-Key': key } }).then(send)
    const first = await post('{"amount":"1"}', 'k-1')
    expect(first.status).toBe(200)
    expect(await post('{"amount":"1"}', 'k-1')).toMatchObject({ status: 200, body: first.body })
    expect(await post('{"amount":"2"}', 'k-1')).toMatchObject({ status: 400, body: { code: 1400 } })
    expect((await post('{}', 'k-5xx', '/v1/failing')).status).toBe(500)
    expect(await post('{}', 'k-5xx', '/v1/failing')).toMatchObject({
      status: 400,
      body: { message: KEY_REUSED_AFTER_INTERNAL_ERROR },
    })
  })

  it('the official SDK works unchanged: lists and creates API users, cancels without a body, replays a key', async () => {
    const fireblocks = new Fireblocks({
      apiKey: admin.record.id,
      secretKey: admin.keys.privatePem,
      basePath: `${base}/v1`,
    })
    const before = await fireblocks.apiUser.getApiUsers()
    expect(before.data.users?.map((user) => user.name)).toEqual(
      expect.arrayContaining(['admin', 'viewer', 'editor']),
    )
    const newcomer = testKeyPair('hub-newcomer')
    const created = await fireblocks.apiUser.createApiUser({
      createAPIUser: {
        role: 'SIGNER',
        name: 'newcomer',
        csrPem: createCsr(newcomer.privateKey, '/CN=newcomer'),
      },
      idempotencyKey: 'create-newcomer',
    })
    expect(created.statusCode).toBe(200)
    expect(created.headers['x-request-id']).toMatch(UUID)
    const after = await fireblocks.apiUser.getApiUsers()
    const added = after.data.users?.find((user) => user.name === 'newcomer')
    expect(added).toMatchObject({ role: 'SIGNER', enabled: true, userType: 'API' })

    // The new API user calls the API with the key of its CSR.
    const asNewcomer = new Fireblocks({
      apiKey: added!.id!,
      secretKey: newcomer.privatePem,
      basePath: `${base}/v1`,
    })
    const cancelled = await asNewcomer.transactions.cancelTransaction({ txId: 'tx-1' })
    expect(cancelled.data).toEqual({ success: true })

    const transaction = {
      transactionRequest: { assetId: 'ETH_TEST', amount: '0.001' },
      idempotencyKey: 'tx-k',
    }
    const first = await fireblocks.transactions.createTransaction(transaction)
    const again = await fireblocks.transactions.createTransaction(transaction)
    expect(again.data.id).toBe(first.data.id)

    const allowList = await fireblocks.whitelistIpAddresses.getWhitelistIpAddresses({ userId: added!.id! })
    expect(allowList.data).toEqual({ userId: added!.id, whitelistedIps: [] })
    const users = await fireblocks.users.getUsers()
    expect(users.data.map((user) => user.id)).toContain(added!.id)
  })

  it('a Viewer cannot manage API users, and a CSR with a weak key is refused', async () => {
    const asViewer = new Fireblocks({
      apiKey: viewer.record.id,
      secretKey: viewer.keys.privatePem,
      basePath: `${base}/v1`,
    })
    await expect(asViewer.apiUser.getApiUsers()).rejects.toMatchObject({
      message: 'Insufficient permissions',
    })
    const asAdmin = new Fireblocks({
      apiKey: admin.record.id,
      secretKey: admin.keys.privatePem,
      basePath: `${base}/v1`,
    })
    // openssl signs a CSR over any key; createCsr would refuse to make this one.
    const dir = mkdtempSync(join(tmpdir(), 'countersign-weak-'))
    let weakCsr: string
    try {
      writeFileSync(join(dir, 'weak.key'), testKeyPair('hub-weak', 1024).privatePem)
      weakCsr = execFileSync('openssl', ['req', '-new', '-key', 'weak.key', '-subj', '/CN=weak'], {
        cwd: dir,
        encoding: 'utf8',
      })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    const created = (csrPem: string) =>
      asAdmin.apiUser.createApiUser({ createAPIUser: { role: 'EDITOR', name: 'weak', csrPem } })
    await expect(created(weakCsr)).rejects.toMatchObject({ response: { statusCode: 400 } })
    await expect(created(weakCsr)).rejects.toThrow(/1024 bits/)
    // A CSR altered after it was signed (its key swapped for another one's) is refused too.
    const genuine = createCsr(testKeyPair('hub-genuine').privateKey, '/CN=genuine')
    const der = Buffer.from(genuine.replace(/-----[^-]+-----|\s/g, ''), 'base64')
    der.writeUInt8(der.readUInt8(der.length - 1) ^ 1, der.length - 1)
    const altered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`
    await expect(created(altered)).rejects.toMatchObject({ response: { statusCode: 400 } })
    const names = (await asAdmin.apiUser.getApiUsers()).data.users?.map((user) => user.name)
    expect(names).not.toContain('weak')
  })

  it('refuses to serve a route that declares no roles (fail closed at start)', async () => {
    const unguarded = createServiceServer({ log: pino({ level: 'silent' }) })
    const noRoles: ServicePlugin = async (routes) => {
      routes.get('/v1/open', async () => ({}))
    }
    await expect(
      unguarded.register(restAuthentication({ database, routes: [noRoles] })).ready(),
    ).rejects.toThrow(/declares no config.roles/)
    await unguarded.close()
  })
})
