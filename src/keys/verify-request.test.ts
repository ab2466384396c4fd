import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { describe, expect, it } from 'vitest'
import {
  alterPayload,
  forgeAlgNone,
  forgeEs256,
  forgeHs256WithPublicKey,
  forgePs256,
  truncate,
} from '../testing/index.js'
import { testKeyPair } from '../../test/support/keys.js'
import {
  API_KEY,
  NOW,
  NOW_SECONDS,
  URI,
  claims,
  claimsWithout,
  fixedClock,
  request,
  sha256,
  signClaims,
} from '../../test/keys/request-tokens.js'
import {
  InMemoryNonceStore,
  RequestAuthFailed,
  signRequest,
  verifyRequest,
  type SignedRequest,
  type VerifyRequestOptions,
} from './index.js'

const user = testKeyPair('api-user')
const stranger = testKeyPair('stranger')

function options(overrides: Partial<VerifyRequestOptions> = {}): VerifyRequestOptions {
  const clock = overrides.clock ?? fixedClock()
  return {
    keys: { publicKeyFor: (apiKey) => (apiKey === API_KEY ? user.publicKey : undefined) },
    nonces: new InMemoryNonceStore(clock),
    clock,
    clockSkewSeconds: 5,
    ...overrides,
  }
}

async function refusal(
  req: SignedRequest,
  opts: VerifyRequestOptions = options(),
): Promise<RequestAuthFailed> {
  const error: unknown = await verifyRequest(req, opts).then(
    () => undefined,
    (thrown: unknown) => thrown,
  )
  expect(error).toBeInstanceOf(RequestAuthFailed)
  return error as RequestAuthFailed
}

/** What a successful verification returns for a token signed over `claims(overrides)`: those claims. */
function verifiedAs(overrides: Record<string, unknown> = {}) {
  return { apiKey: API_KEY, claims: claims(overrides) }
}

async function signed(overrides: Record<string, unknown> = {}, key: KeyObject = user.privateKey) {
  return signClaims(claims(overrides), key)
}

describe('signRequest', () => {
  it('builds X-API-Key and a bearer RS256 JWT with uri, nonce, iat, exp = iat + 55, sub and bodyHash', async () => {
    const body = '{"amount":"1.5","assetId":"ETH"}'
    const { headers, claims: built } = await signRequest({
      apiKey: API_KEY,
      privateKey: user.privateKey,
      url: 'https://api.fireblocks.io/v1/transactions?dryRun=true',
      body,
      clock: fixedClock(),
    })
    expect(headers['X-API-Key']).toBe(API_KEY)
    const token = headers.Authorization.replace(/^Bearer /, '')
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'RS256', typ: 'JWT' })
    expect(decodeJwt(token)).toEqual(built)
    expect(built).toMatchObject({
      uri: '/v1/transactions?dryRun=true',
      iat: NOW_SECONDS,
      exp: NOW_SECONDS + 55,
      sub: API_KEY,
      bodyHash: sha256(body),
    })
    expect(built.nonce).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('uses a new nonce for every request', async () => {
    const input = { apiKey: API_KEY, privateKey: user.privateKey, url: URI }
    const [a, b] = await Promise.all([signRequest(input), signRequest(input)])
    expect(a.claims.nonce).not.toBe(b.claims.nonce)
  })

  it('produces requests that verifyRequest accepts, with and without a body', async () => {
    const opts = options()
    for (const body of [undefined, '{"key":"value"}']) {
      const { headers } = await signRequest({
        apiKey: API_KEY,
        privateKey: user.privateKey,
        url: URI,
        clock: fixedClock(),
        ...(body === undefined ? {} : { body }),
      })
      await expect(
        verifyRequest({ url: URI, headers, ...(body === undefined ? {} : { body }) }, opts),
      ).resolves.toMatchObject({
        apiKey: API_KEY,
      })
    }
  })
})

describe('verifyRequest: one refusal per Fireblocks error code, each from a really mis-signed request', () => {
  it('-1 invalid signature: the JWT was signed by a key other than the registered one', async () => {
    const error = await refusal(request(await signed({}, stranger.privateKey)))
    expect(error).toMatchObject({
      code: 'CS_REQUEST_AUTH',
      reason: 'invalid_signature',
      apiCode: -1,
      httpStatus: 401,
    })
    expect(error.message).toBe('invalid signature')
    expect(error.toResponseBody()).toEqual({ message: 'invalid signature', code: -1 })
  })

  it('-1 invalid signature: claims altered after signing, or the signature cut short', async () => {
    const token = await signed()
    expect((await refusal(request(alterPayload(token, claims({ uri: '/v1/transactions' }))))).apiCode).toBe(
      -1,
    )
    expect((await refusal(request(truncate(token)))).apiCode).toBe(-1)
  })

  it('-2 API key missing in the JWT: no sub claim', async () => {
    const error = await refusal(request(await signClaims(claimsWithout('sub'), user.privateKey)))
    expect(error).toMatchObject({ reason: 'missing_api_key', apiCode: -2 })
  })

  it('-3 JWT missing: no Authorization header, not a bearer token, or two of them', async () => {
    expect(await refusal(request(undefined))).toMatchObject({ reason: 'missing_jwt', apiCode: -3 })
    const token = await signed()
    const twice = { authorization: `Bearer ${token}`, Authorization: `Bearer ${token}`, 'x-api-key': API_KEY }
    expect((await refusal(request(undefined, { headers: twice }))).apiCode).toBe(-3)
    const array = { authorization: [`Bearer ${token}`, `Bearer ${token}`], 'x-api-key': API_KEY }
    expect((await refusal(request(undefined, { headers: array }))).apiCode).toBe(-3)
    const basic = request(undefined, {
      headers: { authorization: 'Basic dXNlcjpwYXNz', 'x-api-key': API_KEY },
    })
    expect((await refusal(basic)).apiCode).toBe(-3)
  })

  it('-4 wrong URL: the signed uri lacks /v1, or lacks the query string', async () => {
    const noPrefix = await refusal(request(await signed({ uri: '/vault/accounts_paged?limit=10' })))
    expect(noPrefix).toMatchObject({ reason: 'wrong_uri', apiCode: -4 })
    expect(noPrefix.facts).toEqual({ signedUri: '/vault/accounts_paged?limit=10', actualUri: URI })
    expect((await refusal(request(await signed({ uri: '/v1/vault/accounts_paged' })))).apiCode).toBe(-4)
  })

  it('-5 invalid token format: not three parts, or a header that is not JSON', async () => {
    expect(await refusal(request('not-a-jwt'))).toMatchObject({ reason: 'malformed_token', apiCode: -5 })
    const token = await signed()
    const [, payload, signature] = token.split('.')
    const error = await refusal(
      request(`${Buffer.from('{oops').toString('base64url')}.${payload}.${signature}`),
    )
    expect(error.message).toBe('Unauthorized: Invalid token format')
  })

  it('-6 wrong user: sub differs from X-API-Key, X-API-Key is missing, or no API user has that key', async () => {
    const other = '0c7e2b1a-aaaa-4bbb-8ccc-123456789abc'
    const token = await signed()
    const mismatch = await refusal(
      request(token, { headers: { authorization: `Bearer ${token}`, 'x-api-key': other } }),
    )
    expect(mismatch).toMatchObject({
      reason: 'wrong_user',
      apiCode: -6,
      facts: { sub: API_KEY, apiKey: other },
    })
    expect((await refusal(request(token, { headers: { authorization: `Bearer ${token}` } }))).apiCode).toBe(
      -6,
    )
    const unknown = await signed({ sub: other })
    const error = await refusal(
      request(unknown, { headers: { authorization: `Bearer ${unknown}`, 'x-api-key': other } }),
    )
    expect(error).toMatchObject({ reason: 'wrong_user', apiCode: -6 })
  })

  it('-7 token not accepted: alg none, HS256 keyed with the public key, PS256, ES256', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const forgeries = {
      none: forgeAlgNone(claims()),
      HS256: forgeHs256WithPublicKey(claims(), user.publicPem),
      PS256: forgePs256(claims(), user.privateKey),
      ES256: forgeEs256(claims(), ec.privateKey),
    }
    for (const [algorithm, token] of Object.entries(forgeries)) {
      const error = await refusal(request(token))
      expect(error).toMatchObject({ reason: 'algorithm_not_allowed', apiCode: -7, facts: { algorithm } })
      expect(error.message).toBe('Unauthorized: Token was not accepted.')
    }
  })

  it('-7 token not accepted: a required claim missing, or a lifetime beyond 55 s', async () => {
    const missing = await refusal(request(await signClaims(claimsWithout('nonce'), user.privateKey)))
    expect(missing).toMatchObject({ reason: 'invalid_claims', apiCode: -7 })
    expect(missing.detail).toContain('nonce')
    const long = await refusal(request(await signed({ exp: NOW_SECONDS + 3600 })))
    expect(long).toMatchObject({ reason: 'invalid_claims', apiCode: -7 })
    const millis = await refusal(request(await signed({ iat: NOW.getTime(), exp: NOW.getTime() + 55_000 })))
    expect(millis.apiCode).toBe(-7)
  })

  it('-10 expired: exp passed more than the skew ago', async () => {
    const token = await signed({ iat: NOW_SECONDS - 120, exp: NOW_SECONDS - 65 })
    const error = await refusal(request(token))
    expect(error).toMatchObject({ reason: 'expired', apiCode: -10, facts: { secondsPast: 65 } })
    expect(error.message).toBe('The request has expired.')
  })

  it('-12 issued in the future: iat ahead of the clock by more than the skew', async () => {
    const error = await refusal(request(await signed({ iat: NOW_SECONDS + 30, exp: NOW_SECONDS + 85 })))
    expect(error).toMatchObject({ reason: 'issued_in_future', apiCode: -12, facts: { secondsAhead: 30 } })
    expect(error.message).toBe('The request is with a future issuance timestamp (iat).')
  })

  it('body hash mismatch (-7): the JWT hashed a spaced serialisation, the compact one was sent', async () => {
    const token = await signed({ bodyHash: sha256('{"key": "value"}') })
    const error = await refusal(request(token, { body: '{"key":"value"}' }))
    expect(error).toMatchObject({ reason: 'body_hash_mismatch', apiCode: -7 })
    expect(error.facts.actualBodyHash).toBe(sha256('{"key":"value"}'))
  })

  it('nonce reuse (-7): the same accepted request replayed', async () => {
    const opts = options()
    const replay = request(await signed())
    await verifyRequest(replay, opts)
    expect(await refusal(replay, opts)).toMatchObject({ reason: 'nonce_reused', apiCode: -7 })
  })
})

describe('verifyRequest: what it tolerates, on purpose', () => {
  it.each([
    ['empty string (ts-sdk, py-sdk)', ''],
    ['two quote characters (legacy JS and Python SDKs)', '""'],
    ['null (Go and PHP examples)', 'null'],
  ])('accepts a body-less request whose bodyHash is the hash of %s', async (_name, hashed) => {
    await expect(
      verifyRequest(request(await signed({ bodyHash: sha256(hashed) })), options()),
    ).resolves.toEqual(verifiedAs({ bodyHash: sha256(hashed) }))
  })

  it('refuses other hashes for a body-less request, and an empty-body hash when a body is sent', async () => {
    expect((await refusal(request(await signed({ bodyHash: sha256('{}') })))).reason).toBe(
      'body_hash_mismatch',
    )
    expect((await refusal(request(await signed(), { body: '{"a":1}' }))).reason).toBe('body_hash_mismatch')
  })

  it('accepts an upper-case hex bodyHash of the exact bytes', async () => {
    const body = '{"a":1}'
    const token = await signed({ bodyHash: sha256(body).toUpperCase() })
    await expect(verifyRequest(request(token, { body }), options())).resolves.toEqual(
      verifiedAs({ bodyHash: sha256(body).toUpperCase() }),
    )
  })

  it('compares uri after percent-encoding normalisation (the legacy Python SDK escapes [ and ])', async () => {
    const token = await signed({ uri: '/v1/vault/accounts?ids=%5B1%5D' })
    await expect(
      verifyRequest(request(token, { url: '/v1/vault/accounts?ids=[1]' }), options()),
    ).resolves.toEqual(verifiedAs({ uri: '/v1/vault/accounts?ids=%5B1%5D' }))
    const other = await signed({ uri: '/v1/vault/accounts?ids=%5B2%5D', nonce: 'n-2' })
    expect((await refusal(request(other, { url: '/v1/vault/accounts?ids=[1]' }))).reason).toBe('wrong_uri')
  })

  it('takes path and query from an absolute request URL, and header names in any case', async () => {
    const token = await signed()
    const req = {
      url: `https://api.fireblocks.io${URI}`,
      headers: { Authorization: `Bearer ${token}`, 'X-API-KEY': API_KEY },
    }
    await expect(verifyRequest(req, options())).resolves.toMatchObject({
      apiKey: API_KEY,
      claims: { uri: URI },
    })
  })

  it('accepts exp up to the skew in the past and iat up to the skew in the future', async () => {
    const opts = options()
    await expect(
      verifyRequest(request(await signed({ iat: NOW_SECONDS - 59, exp: NOW_SECONDS - 4, nonce: 'a' })), opts),
    ).resolves.toEqual(verifiedAs({ iat: NOW_SECONDS - 59, exp: NOW_SECONDS - 4, nonce: 'a' }))
    await expect(
      verifyRequest(request(await signed({ iat: NOW_SECONDS + 5, exp: NOW_SECONDS + 60, nonce: 'b' })), opts),
    ).resolves.toEqual(verifiedAs({ iat: NOW_SECONDS + 5, exp: NOW_SECONDS + 60, nonce: 'b' }))
    expect(
      (
        await refusal(
          request(await signed({ iat: NOW_SECONDS - 60, exp: NOW_SECONDS - 5, nonce: 'c' })),
          opts,
        )
      ).apiCode,
    ).toBe(-10)
  })

  it('accepts a numeric nonce (legacy Python SDK) and refuses its replay', async () => {
    const opts = options()
    const replay = request(await signed({ nonce: 8_123_456_789_012 }))
    await expect(verifyRequest(replay, opts)).resolves.toEqual(verifiedAs({ nonce: 8_123_456_789_012 }))
    expect((await refusal(replay, opts)).reason).toBe('nonce_reused')
  })

  it('does not use up the nonce of a refused request', async () => {
    const opts = options()
    const token = await signed()
    expect((await refusal(request(token, { body: 'tampered' }), opts)).reason).toBe('body_hash_mismatch')
    await expect(verifyRequest(request(token), opts)).resolves.toEqual(verifiedAs())
  })

  it('remembers a nonce until exp plus the skew, so a replay inside the skew window is still refused', async () => {
    const clock = fixedClock()
    const opts = options({ clock })
    const replay = request(await signed())
    await verifyRequest(replay, opts)
    clock.advance(58_000) // past exp (55 s), inside the 5 s skew
    expect((await refusal(replay, opts)).reason).toBe('nonce_reused')
  })
})
