import { describe, expect, it } from 'vitest'
import {
  API_KEY,
  NOW_SECONDS,
  URI,
  claims,
  fixedClock,
  sha256,
  signClaims,
} from '../../test/keys/request-tokens.js'
import { forgePs256 } from '../testing/index.js'
import { testKeyPair } from '../../test/support/keys.js'
import { diagnoseRequest, signRequest, type DiagnoseRequestInput } from './index.js'

const user = testKeyPair('api-user')
const stranger = testKeyPair('stranger')

async function diagnose(token: string, overrides: Partial<DiagnoseRequestInput> = {}) {
  return diagnoseRequest({
    registeredKey: user.publicKey,
    signingKey: user.privateKey,
    jwt: token,
    url: URI,
    body: new Uint8Array(),
    apiKey: API_KEY,
    clock: fixedClock(),
    clockSkewSeconds: 5,
    ...overrides,
  })
}

const signed = (overrides: Record<string, unknown> = {}) => signClaims(claims(overrides), user.privateKey)

describe('diagnoseRequest', () => {
  it('accepts a correct request and says so, with the fingerprints', async () => {
    const { headers } = await signRequest({
      apiKey: API_KEY,
      privateKey: user.privateKey,
      url: URI,
      clock: fixedClock(),
    })
    const diagnosis = await diagnose(headers.Authorization)
    expect(diagnosis).toMatchObject({ accepted: true, cause: undefined, skipped: [] })
    expect(diagnosis.fingerprints.signingKey).toBe(diagnosis.fingerprints.registeredKey)
  })

  it('the key does not belong to the CSR: says so first, with both fingerprints and the way out', async () => {
    const token = await signClaims(claims(), stranger.privateKey)
    const diagnosis = await diagnose(token, { signingKey: stranger.privateKey })
    expect(diagnosis.cause).toMatchObject({
      reason: 'key_mismatch',
      apiCode: -1,
      apiMessage: 'invalid signature',
    })
    expect(diagnosis.cause?.summary).toContain(diagnosis.fingerprints.signingKey)
    expect(diagnosis.cause?.summary).toContain(diagnosis.fingerprints.registeredKey)
    expect(diagnosis.cause?.fix).toMatch(/create a new API user/)
  })

  it('a sound JWT is accepted even when the key given is another one, with a note saying so', async () => {
    const diagnosis = await diagnose(await signed(), { signingKey: stranger.privateKey })
    expect(diagnosis.accepted).toBe(true)
    expect(diagnosis.notes[0]).toContain('is not the registered key and did not sign this JWT')
  })

  it('the signature does not verify with the registered key although the key given matches', async () => {
    const diagnosis = await diagnose(await signClaims(claims(), stranger.privateKey))
    expect(diagnosis.cause).toMatchObject({ reason: 'invalid_signature', apiCode: -1 })
    expect(diagnosis.cause?.summary).toMatch(/signed with another key, or altered/)
  })

  it('uri: shows signed and actual, and names a missing /v1 prefix', async () => {
    const diagnosis = await diagnose(await signed({ uri: '/vault/accounts_paged?limit=10' }))
    expect(diagnosis.cause).toMatchObject({ reason: 'wrong_uri', apiCode: -4 })
    expect(diagnosis.cause?.summary).toContain('"/vault/accounts_paged?limit=10"')
    expect(diagnosis.cause?.summary).toContain(`"${URI}"`)
    expect(diagnosis.cause?.summary).toContain('lacks the /v1 prefix')
  })

  it('uri: names a query string left out of the signature, and a full URL signed', async () => {
    const noQuery = await diagnose(await signed({ uri: '/v1/vault/accounts_paged' }))
    expect(noQuery.cause?.summary).toContain('the query string was not signed')
    const fullUrl = await diagnose(await signed({ uri: `https://api.fireblocks.io${URI}` }))
    expect(fullUrl.cause?.summary).toContain('signed the full URL')
  })

  it('body hash: the compact serialisation was signed but the spaced one was sent', async () => {
    const diagnosis = await diagnose(await signed({ bodyHash: sha256('{"key":"value","n":[1,2]}') }), {
      body: Buffer.from('{"key": "value", "n": [1, 2]}'),
    })
    expect(diagnosis.cause).toMatchObject({ reason: 'body_hash_mismatch', apiCode: -7 })
    expect(diagnosis.cause?.summary).toContain('compact JSON serialisation of this body')
  })

  it('body hash: the spaced (Python json.dumps) serialisation was signed but the compact one was sent', async () => {
    const diagnosis = await diagnose(
      await signed({ bodyHash: sha256('{"note": "caf\\u00e9", "n": [1, 2]}') }),
      {
        body: Buffer.from('{"note":"café","n":[1,2]}'),
      },
    )
    expect(diagnosis.cause?.summary).toContain('spaced JSON serialisation of this body')
  })

  it('body hash: neither serialisation matches, or an empty body was hashed for a request with one', async () => {
    const other = await diagnose(await signed({ bodyHash: sha256('{"key":"other"}') }), {
      body: Buffer.from('{"key":"value"}'),
    })
    expect(other.cause?.summary).toContain('neither its compact nor its spaced')
    const empty = await diagnose(await signed(), { body: Buffer.from('{"key":"value"}') })
    expect(empty.cause?.summary).toContain('hashed an empty body')
  })

  it('sub differs from the API key: shows both', async () => {
    const other = '11111111-2222-4333-8444-555555555555'
    const diagnosis = await diagnose(await signed({ sub: other }))
    expect(diagnosis.cause).toMatchObject({ reason: 'wrong_user', apiCode: -6 })
    expect(diagnosis.cause?.summary).toContain(other)
    expect(diagnosis.cause?.summary).toContain(API_KEY)
  })

  it('expired: says by how many seconds', async () => {
    const diagnosis = await diagnose(await signed({ iat: NOW_SECONDS - 300, exp: NOW_SECONDS - 245 }))
    expect(diagnosis.cause).toMatchObject({ reason: 'expired', apiCode: -10, facts: { secondsPast: 245 } })
    expect(diagnosis.cause?.summary).toContain(
      "expired 245 s ago by this machine's clock (5 s of skew tolerated)",
    )
  })

  it('iat in the future: says by how many seconds, and spots milliseconds', async () => {
    const ahead = await diagnose(await signed({ iat: NOW_SECONDS + 40, exp: NOW_SECONDS + 95 }))
    expect(ahead.cause).toMatchObject({ reason: 'issued_in_future', apiCode: -12 })
    expect(ahead.cause?.summary).toContain(
      "40 s in the future by this machine's clock (5 s of skew tolerated)",
    )
    const millis = await diagnose(await signed({ iat: NOW_SECONDS * 1000, exp: NOW_SECONDS * 1000 + 55 }))
    expect(millis.cause?.summary).toContain('in milliseconds')
  })

  it('algorithm other than RS256: names it', async () => {
    const diagnosis = await diagnose(forgePs256(claims(), user.privateKey))
    expect(diagnosis.cause).toMatchObject({ reason: 'algorithm_not_allowed', apiCode: -7 })
    expect(diagnosis.cause?.summary).toContain('PS256')
  })

  it('skips the checks it has no input for, and lists them', async () => {
    const diagnosis = await diagnoseRequest({
      registeredKey: user.publicKey,
      jwt: `Bearer ${await signed({ bodyHash: sha256('{"x":1}') })}`,
      clock: fixedClock(),
    })
    expect(diagnosis.accepted).toBe(true)
    expect(diagnosis.skipped).toEqual(['x_api_key', 'uri', 'body_hash'])
    expect(diagnosis.notes).toHaveLength(3)
  })
})
