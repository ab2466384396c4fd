/**
 * The co-signers API (hub-api.md §7) through the official SDK against a real hub: co-signers paired at the
 * link level (a pairing token and `POST /cosigner/v1/pair` with an X25519 key; no MPC needed), listed,
 * renamed, their API key's callback handler paired, read, updated and unpaired, and read back by the
 * co-signer itself over the link.
 */
import { generateKeyPairSync, X509Certificate } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Fireblocks, FireblocksError } from '@fireblocks/ts-sdk'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initWorkspace, loadHubConfig, startHub, type RunningHub } from '../../src/hub/index.js'
import { createCsr, generateRsaKeyPair, spkiFingerprint } from '../../src/keys/index.js'
import { SIGNING_ALGORITHMS } from '../../src/protocol/index.js'
import { putWorkspaceKey } from '../../src/storage/index.js'
import { makeSelfSignedCertificate } from '../support/tls.js'

interface User {
  readonly id: string
  readonly sdk: Fireblocks
}

interface PairedCosigner {
  readonly cosignerId: string
  readonly refreshToken: string
}

const publicPem = (bits: number) =>
  generateKeyPairSync('rsa', { modulusLength: bits })
    .publicKey.export({ type: 'spki', format: 'pem' })
    .toString()

/** The SDK's failure, for assertions on status, message and code. */
async function refusal(call: Promise<unknown>) {
  const error = await call.then(
    () => undefined,
    (failure: unknown) => failure,
  )
  if (!(error instanceof FireblocksError)) throw new Error(`expected a FireblocksError, got ${String(error)}`)
  return {
    status: error.response?.statusCode,
    message: error.message,
    code: (error.response?.data as { code?: number } | undefined)?.code,
  }
}

describe('co-signers API through the official SDK', () => {
  let dir: string
  let hub: RunningHub
  let owner: User
  let viewer: User
  let alice: User
  let bob: User
  let aliceCosigner: PairedCosigner
  let bobCosigner: PairedCosigner
  let certPem: string
  const handlerKey = publicPem(2048)

  const sdkFor = (id: string, privateKeyPem: string) =>
    new Fireblocks({ apiKey: id, secretKey: privateKeyPem, basePath: `${hub.url}/v1` })

  const createUser = async (name: string, role: string): Promise<User> => {
    const pair = await generateRsaKeyPair(2048)
    await owner.sdk.apiUser.createApiUser({
      createAPIUser: { name, role, csrPem: createCsr(pair.privateKey, `/CN=${name}`) },
    })
    const listed = await owner.sdk.apiUser.getApiUsers()
    const id = listed.data.users.find((user) => user.name === name)?.id
    if (id === undefined) throw new Error(`API user ${name} was not created`)
    return { id, sdk: sdkFor(id, pair.privateKeyPem) }
  }

  const link = (path: string, init: RequestInit = {}) =>
    fetch(`${hub.url}/cosigner/v1/${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', ...init.headers },
    })

  const pairCosigner = async (user: User, name: string): Promise<PairedCosigner> => {
    const pairingToken = await hub.hub.link.issuePairingToken(user.id)
    const partyKey = generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' }).x
    const answer = await link('pair', {
      method: 'POST',
      body: JSON.stringify({ pairingToken, partyKey, name }),
    })
    expect(answer.status).toBe(200)
    return (await answer.json()) as PairedCosigner
  }

  const accessToken = async (cosigner: PairedCosigner) => {
    const answer = await link('token', {
      method: 'POST',
      body: JSON.stringify({ refreshToken: cosigner.refreshToken }),
    })
    return { status: answer.status, body: (await answer.json()) as { accessToken?: string; code?: number } }
  }

  const callbackOf = async (cosigner: PairedCosigner) => {
    const { body } = await accessToken(cosigner)
    const answer = await link('callback', { headers: { authorization: `Bearer ${body.accessToken}` } })
    return { status: answer.status, body: (await answer.json()) as Record<string, unknown> }
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cs-cosigners-'))
    const init = await initWorkspace({ dir, listen: '127.0.0.1:0' })
    hub = await startHub(loadHubConfig(init.configPath, {}), { log: pino({ level: 'silent' }) })
    // Workspace keys exist already, so pairing these co-signers starts no key generation (no MPC here).
    await hub.hub.db.write(async (session) => {
      for (const algorithm of SIGNING_ALGORITHMS)
        await putWorkspaceKey(
          session,
          { algorithm, publicKey: `02${'11'.repeat(32)}`, chainCode: '22'.repeat(32) },
          1,
        )
    })
    owner = { id: init.ownerApiKey, sdk: sdkFor(init.ownerApiKey, readFileSync(init.ownerKeyPath!, 'utf8')) }
    viewer = await createUser('viewer', 'VIEWER')
    alice = await createUser('alice', 'SIGNER')
    bob = await createUser('bob', 'SIGNER')
    aliceCosigner = await pairCosigner(alice, 'alice-cosigner')
    bobCosigner = await pairCosigner(bob, 'bob-cosigner')
    certPem = readFileSync(makeSelfSignedCertificate(dir).cert, 'utf8')
  }, 60_000)

  afterAll(async () => {
    await hub?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('lists the paired co-signers, paged, newest first by default', async () => {
    const all = await owner.sdk.cosignersBeta.getCosigners()
    expect(all.statusCode).toBe(200)
    expect(all.data.next).toBeNull()
    expect(all.data.data).toEqual([
      {
        archived: false,
        id: bobCosigner.cosignerId,
        name: 'bob-cosigner',
        type: 'PLAIN',
        version: { hash: 'unknown', name: 'unknown' },
      },
      expect.objectContaining({ id: aliceCosigner.cosignerId, name: 'alice-cosigner' }),
    ])
    const first = await owner.sdk.cosignersBeta.getCosigners({ order: 'ASC', pageSize: 1 })
    expect(first.data.data.map((cosigner) => cosigner.id)).toEqual([aliceCosigner.cosignerId])
    expect(first.data.next).toEqual(expect.any(String))
    const second = await owner.sdk.cosignersBeta.getCosigners({
      order: 'ASC',
      pageSize: 1,
      pageCursor: first.data.next!,
    })
    expect(second.data.data.map((cosigner) => cosigner.id)).toEqual([bobCosigner.cosignerId])
    expect(second.data.next).toBeNull()
  })

  it('gets and renames a co-signer', async () => {
    const cosignerId = aliceCosigner.cosignerId
    expect((await owner.sdk.cosignersBeta.getCosigner({ cosignerId })).data.name).toBe('alice-cosigner')
    const renamed = await owner.sdk.cosignersBeta.renameCosigner({
      cosignerId,
      renameCosigner: { name: '  Alice prod  ' },
    })
    expect(renamed.data).toMatchObject({ id: cosignerId, name: 'Alice prod', archived: false })
    expect((await owner.sdk.cosignersBeta.getCosigner({ cosignerId })).data.name).toBe('Alice prod')
  })

  it("lists a co-signer's API key, with when it was last seen", async () => {
    const cosignerId = aliceCosigner.cosignerId
    const before = await owner.sdk.cosignersBeta.getApiKeys({ cosignerId })
    expect(before.data).toEqual({ data: [{ id: alice.id }], next: null })
    const { body } = await accessToken(aliceCosigner)
    await link('messages', { headers: { authorization: `Bearer ${body.accessToken}` } })
    const key = await owner.sdk.cosignersBeta.getApiKey({ cosignerId, apiKeyId: alice.id })
    expect(key.data.id).toBe(alice.id)
    expect(new Date(key.data.lastSeen!).toISOString()).toBe(key.data.lastSeen)
    expect(Date.now() - Date.parse(key.data.lastSeen!)).toBeLessThan(60_000)
  })

  it('pairs an API key with a callback handler: 202, Location, status COMPLETED, public key shown', async () => {
    const cosignerId = aliceCosigner.cosignerId
    const callbackHandler = { url: 'https://handler.example.com/v2', publicKey: handlerKey }
    const paired = await owner.sdk.cosignersBeta.pairApiKey({
      cosignerId,
      apiKeyId: alice.id,
      pairApiKeyRequest: { callbackHandler },
    })
    expect(paired.statusCode).toBe(202)
    expect(paired.data).toEqual({ id: alice.id, callbackHandler })
    const location = paired.headers['location'] ?? ''
    const prefix = `/v1/cosigners/${cosignerId}/api_keys/${alice.id}/`
    expect(location.startsWith(prefix)).toBe(true)
    const status = await owner.sdk.cosignersBeta.getRequestStatus({
      cosignerId,
      apiKeyId: alice.id,
      requestId: location.slice(prefix.length),
    })
    expect(status.data).toEqual({ status: 'COMPLETED', type: 'PAIR_API_KEY' })
    const key = await owner.sdk.cosignersBeta.getApiKey({ cosignerId, apiKeyId: alice.id })
    expect(key.data.callbackHandler).toEqual(callbackHandler)
  })

  it('updates the callback handler to a pinned certificate, shown only as the hash of its public key', async () => {
    const cosignerId = aliceCosigner.cosignerId
    const updated = await owner.sdk.cosignersBeta.updateCallbackHandler({
      cosignerId,
      apiKeyId: alice.id,
      updateCallbackHandlerRequest: { callbackHandler: { url: 'https://10.0.0.7:8443', cert: certPem } },
    })
    expect(updated.statusCode).toBe(202)
    const requestId = (updated.headers['location'] ?? '').split('/').at(-1)!
    const status = await owner.sdk.cosignersBeta.getRequestStatus({
      cosignerId,
      apiKeyId: alice.id,
      requestId,
    })
    expect(status.data).toEqual({ status: 'COMPLETED', type: 'UPDATE_CALLBACK_HANDLER' })
    const hash = spkiFingerprint(new X509Certificate(certPem).publicKey)
    const listed = await owner.sdk.cosignersBeta.getApiKeys({ cosignerId })
    expect(listed.data.data[0]?.callbackHandler).toEqual({
      url: 'https://10.0.0.7:8443',
      certPublicKeyHash: hash,
    })
    expect(JSON.stringify(listed.data)).not.toContain('BEGIN CERTIFICATE')
  })

  it('lets each co-signer read its own callback handler over the link, and only its own', async () => {
    const alices = await callbackOf(aliceCosigner)
    expect(alices.status).toBe(200)
    expect(alices.body).toMatchObject({ url: 'https://10.0.0.7:8443' })
    expect(new X509Certificate(alices.body.cert as string).fingerprint256).toBe(
      new X509Certificate(certPem).fingerprint256,
    )
    const bobsNone = await callbackOf(bobCosigner)
    expect(bobsNone).toEqual({
      status: 404,
      body: { message: `no callback handler is set for ${bob.id}`, code: 1513 },
    })

    await owner.sdk.cosignersBeta.pairApiKey({
      cosignerId: bobCosigner.cosignerId,
      apiKeyId: bob.id,
      pairApiKeyRequest: { callbackHandler: { url: 'http://127.0.0.1:9000/bob', publicKey: handlerKey } },
    })
    expect((await callbackOf(bobCosigner)).body).toEqual({
      url: 'http://127.0.0.1:9000/bob',
      publicKey: handlerKey,
    })
    expect((await callbackOf(aliceCosigner)).body.url).toBe('https://10.0.0.7:8443')

    const anonymous = await link('callback')
    expect(anonymous.status).toBe(401)
  })

  it('refuses an API key through a co-signer it is not paired with', async () => {
    const wrong = await refusal(
      owner.sdk.cosignersBeta.pairApiKey({
        cosignerId: aliceCosigner.cosignerId,
        apiKeyId: bob.id,
        pairApiKeyRequest: { callbackHandler: { url: 'https://evil.example.com', publicKey: handlerKey } },
      }),
    )
    expect(wrong).toMatchObject({ status: 404, code: 1404 })
    expect(wrong.message).toContain(
      `API key ${bob.id} is not paired with co-signer ${aliceCosigner.cosignerId}`,
    )
    expect((await callbackOf(bobCosigner)).body.url).toBe('http://127.0.0.1:9000/bob')
    const unknown = await refusal(owner.sdk.cosignersBeta.getCosigner({ cosignerId: 'no-such-cosigner' }))
    expect(unknown).toEqual({ status: 404, message: 'no co-signer no-such-cosigner', code: 1404 })
  })

  it.each([
    [
      { url: 'ftp://handler.example.com', publicKey: handlerKey },
      'callbackHandler.url must use https (or http), not ftp',
    ],
    [{ url: 'not a url', publicKey: handlerKey }, 'callbackHandler.url is not a URL'],
    [{ url: 'https://u:p@handler.example.com', publicKey: handlerKey }, 'must not carry credentials'],
    [{ url: 'https://handler.example.com' }, 'callbackHandler needs publicKey (PEM RSA public key) or cert'],
    [{ url: 'https://handler.example.com', publicKey: publicPem(1024) }, 'has 1024 bits; at least 2048'],
    [
      {
        url: 'https://handler.example.com',
        publicKey: generateKeyPairSync('ed25519')
          .publicKey.export({ type: 'spki', format: 'pem' })
          .toString(),
      },
      'an RSA key is required',
    ],
    [
      { url: 'https://handler.example.com', publicKey: 'ssh-rsa AAAA' },
      'callbackHandler.publicKey must be a PEM text',
    ],
    [
      { url: 'https://handler.example.com', cert: handlerKey },
      'callbackHandler.cert is not an X.509 certificate',
    ],
    [{ url: 'https://handler.example.com', cert: 'garbage' }, 'callbackHandler.cert must be a PEM text'],
  ])('refuses a bad callback handler %#, with a clear message', async (callbackHandler, message) => {
    const refused = await refusal(
      owner.sdk.cosignersBeta.updateCallbackHandler({
        cosignerId: bobCosigner.cosignerId,
        apiKeyId: bob.id,
        updateCallbackHandlerRequest: { callbackHandler },
      }),
    )
    expect(refused).toMatchObject({ status: 400, code: 1400 })
    expect(refused.message).toContain(message)
    expect((await callbackOf(bobCosigner)).body.url).toBe('http://127.0.0.1:9000/bob')
  })

  it('refuses a private key given as the handler public key, without keeping it', async () => {
    const privatePem = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString()
    const refused = await refusal(
      owner.sdk.cosignersBeta.pairApiKey({
        cosignerId: bobCosigner.cosignerId,
        apiKeyId: bob.id,
        pairApiKeyRequest: { callbackHandler: { url: 'https://handler.example.com', publicKey: privatePem } },
      }),
    )
    expect(refused).toMatchObject({ status: 400, code: 1400 })
    expect(refused.message).toContain('is a private key; expected a public key')
    expect(refused.message).not.toContain('PRIVATE KEY-----')
  })

  it('refuses bad paging and names', async () => {
    expect(await refusal(owner.sdk.cosignersBeta.getCosigners({ pageSize: 0 }))).toMatchObject({
      status: 400,
      code: 1400,
    })
    expect(await refusal(owner.sdk.cosignersBeta.getCosigners({ pageCursor: 'forged' }))).toEqual({
      status: 400,
      message: 'the page cursor is not one this hub returned',
      code: 1400,
    })
    const blank = await refusal(
      owner.sdk.cosignersBeta.renameCosigner({
        cosignerId: bobCosigner.cosignerId,
        renameCosigner: { name: '  ' },
      }),
    )
    expect(blank).toMatchObject({ status: 400, code: 1400 })
    expect(blank.message).toContain('RenameCosigner: name')
    const missing = await refusal(
      owner.sdk.cosignersBeta.updateCallbackHandler({
        cosignerId: bobCosigner.cosignerId,
        apiKeyId: bob.id,
        updateCallbackHandlerRequest: {},
      }),
    )
    expect(missing).toMatchObject({ status: 400, code: 1400 })
    expect(missing.message).toContain('UpdateCallbackHandlerRequest: callbackHandler')
  })

  it('refuses a Viewer (and a Signer) with −8', async () => {
    for (const user of [viewer, alice]) {
      expect(await refusal(user.sdk.cosignersBeta.getCosigners())).toEqual({
        status: 401,
        message: 'Insufficient permissions',
        code: -8,
      })
    }
    const renamed = await refusal(
      viewer.sdk.cosignersBeta.renameCosigner({
        cosignerId: bobCosigner.cosignerId,
        renameCosigner: { name: 'mine' },
      }),
    )
    expect(renamed.code).toBe(-8)
    expect(
      (await owner.sdk.cosignersBeta.getCosigner({ cosignerId: bobCosigner.cosignerId })).data.name,
    ).toBe('bob-cosigner')
  })

  it('unpairs an API key: 202, its refresh token refused, the co-signer archived, its handler gone', async () => {
    const cosignerId = bobCosigner.cosignerId
    expect((await accessToken(bobCosigner)).status).toBe(200)
    const unpaired = await owner.sdk.cosignersBeta.unpairApiKey({ cosignerId, apiKeyId: bob.id })
    expect(unpaired.statusCode).toBe(202)
    expect(unpaired.data).toMatchObject({ id: bob.id, callbackHandler: { url: 'http://127.0.0.1:9000/bob' } })
    const requestId = (unpaired.headers['location'] ?? '').split('/').at(-1)!
    const status = await owner.sdk.cosignersBeta.getRequestStatus({ cosignerId, apiKeyId: bob.id, requestId })
    expect(status.data).toEqual({ status: 'COMPLETED', type: 'UNPAIR_API_KEY' })

    expect(await accessToken(bobCosigner)).toEqual({
      status: 401,
      body: { message: 'refresh token revoked: pair the co-signer again', code: 1504 },
    })
    expect((await owner.sdk.cosignersBeta.getCosigner({ cosignerId })).data.archived).toBe(true)
    expect((await owner.sdk.cosignersBeta.getApiKeys({ cosignerId })).data).toEqual({ data: [], next: null })
    expect(await refusal(owner.sdk.cosignersBeta.getApiKey({ cosignerId, apiKeyId: bob.id }))).toMatchObject({
      status: 404,
    })
    // A new pairing is a new co-signer: the old handler does not follow it.
    const again = await pairCosigner(bob, 'bob-again')
    expect(again.cosignerId).not.toBe(cosignerId)
    expect((await callbackOf(again)).status).toBe(404)
  })

  it("answers 404 for a request id of another API key's command", async () => {
    const paired = await owner.sdk.cosignersBeta.pairApiKey({
      cosignerId: aliceCosigner.cosignerId,
      apiKeyId: alice.id,
      pairApiKeyRequest: {},
    })
    const requestId = (paired.headers['location'] ?? '').split('/').at(-1)!
    expect(
      (
        await owner.sdk.cosignersBeta.getRequestStatus({
          cosignerId: aliceCosigner.cosignerId,
          apiKeyId: alice.id,
          requestId,
        })
      ).data,
    ).toEqual({ status: 'COMPLETED', type: 'PAIR_API_KEY' })
    const foreign = await refusal(
      owner.sdk.cosignersBeta.getRequestStatus({
        cosignerId: bobCosigner.cosignerId,
        apiKeyId: bob.id,
        requestId,
      }),
    )
    expect(foreign).toMatchObject({ status: 404, code: 1404 })
    // Paired without a handler: the co-signer has none any more.
    expect((await callbackOf(aliceCosigner)).status).toBe(404)
    expect(paired.data).toEqual({ id: alice.id })
  })
})
