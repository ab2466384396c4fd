import { generateKeyPairSync } from 'node:crypto'
import { decodeProtectedHeader } from 'jose'
import { describe, expect, it } from 'vitest'
import { loadTxFixture } from '../testing/index.js'
import {
  alterPayload,
  b64url,
  forgeAlgNone,
  forgeEs256,
  forgeHs256WithPublicKey,
  forgePs256,
  truncate,
} from '../testing/index.js'
import { testKeyPair } from '../../test/support/keys.js'
import {
  JwtAlgorithmNotAllowed,
  JwtMalformed,
  JwtSignatureInvalid,
  KeyUnsupported,
  extractCompactToken,
  importRsaPrivateKey,
  importRsaPublicKey,
  signCallbackRequest,
  signCallbackResponse,
  verifyCallbackResponse,
  verifyRs256,
} from './index.js'

const cosigner = testKeyPair('cosigner')
const stranger = testKeyPair('stranger')
const handler = testKeyPair('handler')
const payload = loadTxFixture('eth-transfer-approval')

describe('JWT codec: request round trip', () => {
  it('verifies a co-signer token and returns the payload unchanged', async () => {
    const token = await signCallbackRequest(payload, cosigner.privateKey)
    expect(decodeProtectedHeader(token)).toEqual({ typ: 'JWT', alg: 'RS256' })
    const verified = await verifyRs256(token, [importRsaPublicKey(cosigner.publicPem)])
    expect(verified.payload).toEqual(payload)
  })

  it('tries every configured co-signer key and reports which one verified', async () => {
    const token = await signCallbackRequest(payload, cosigner.privateKey)
    const verified = await verifyRs256(token, [stranger.publicKey, cosigner.publicKey])
    expect(verified.keyIndex).toBe(1)
  })

  it('requires no registered claims (real co-signer tokens carry none)', async () => {
    const token = await signCallbackRequest({ requestId: 'r-1' }, cosigner.privateKey)
    await expect(verifyRs256(token, [cosigner.publicKey])).resolves.toMatchObject({
      payload: { requestId: 'r-1' },
    })
  })

  it('tolerates surrounding whitespace and a JSON-quoted token', async () => {
    const token = await signCallbackRequest(payload, cosigner.privateKey)
    expect(extractCompactToken(`  "${token}"\n`)).toBe(token)
    expect(extractCompactToken(`${token}\r\n`)).toBe(token)
  })
})

describe('JWT codec: attacks are refused', () => {
  const keys = [cosigner.publicKey]

  it('refuses a token signed by another RSA key', async () => {
    const token = await signCallbackRequest(payload, stranger.privateKey)
    await expect(verifyRs256(token, keys)).rejects.toBeInstanceOf(JwtSignatureInvalid)
  })

  it('refuses alg none', async () => {
    await expect(verifyRs256(forgeAlgNone(payload), keys)).rejects.toBeInstanceOf(JwtAlgorithmNotAllowed)
  })

  it('refuses HS256 keyed with the co-signer public key', async () => {
    const forged = forgeHs256WithPublicKey(payload, cosigner.publicPem)
    await expect(verifyRs256(forged, keys)).rejects.toMatchObject({
      code: 'CS_JWT_ALG_NOT_ALLOWED',
      algorithm: 'HS256',
    })
  })

  it('refuses PS256 even when signed by the genuine co-signer key', async () => {
    const forged = forgePs256(payload, cosigner.privateKey)
    await expect(verifyRs256(forged, keys)).rejects.toMatchObject({
      code: 'CS_JWT_ALG_NOT_ALLOWED',
      algorithm: 'PS256',
    })
  })

  it('refuses ES256', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    await expect(verifyRs256(forgeEs256(payload, privateKey), keys)).rejects.toMatchObject({
      algorithm: 'ES256',
    })
  })

  it('refuses a payload altered after signing', async () => {
    const token = await signCallbackRequest(payload, cosigner.privateKey)
    const altered = alterPayload(token, { ...payload, amountStr: '1250.0' })
    await expect(verifyRs256(altered, keys)).rejects.toBeInstanceOf(JwtSignatureInvalid)
  })

  it('refuses a token cut short', async () => {
    const token = await signCallbackRequest(payload, cosigner.privateKey)
    await expect(verifyRs256(truncate(token), keys)).rejects.toBeInstanceOf(JwtSignatureInvalid)
    await expect(verifyRs256(token.split('.').slice(0, 2).join('.'), keys)).rejects.toBeInstanceOf(
      JwtMalformed,
    )
  })

  it('refuses garbage and a non-JSON header', async () => {
    await expect(verifyRs256('not-a-token', keys)).rejects.toBeInstanceOf(JwtMalformed)
    await expect(verifyRs256(`${b64url('{{{')}.${b64url('{}')}.AAAA`, keys)).rejects.toBeInstanceOf(
      JwtMalformed,
    )
  })

  it('refuses RSA keys under 2048 bits and non-RSA keys at import', () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 })
    expect(() => importRsaPublicKey(weak.publicKey)).toThrow(KeyUnsupported)
    expect(() => importRsaPrivateKey(weak.privateKey)).toThrow(/1024 bits/)
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    expect(() => importRsaPublicKey(ec.publicKey)).toThrow(/ec/)
    expect(() => importRsaPublicKey('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----')).toThrow(
      KeyUnsupported,
    )
  })
})

describe('JWT codec: responses', () => {
  it('signs exactly action, requestId, rejectionReason and iat with header {alg, typ}', async () => {
    const token = await signCallbackResponse(
      { action: 'REJECT', requestId: 'r-9', rejectionReason: 'amount above limit' },
      handler.privateKey,
      1_700_000_000_500,
    )
    const [header, claims] = token.split('.').map((part) => Buffer.from(part, 'base64url').toString())
    expect(header).toBe('{"alg":"RS256","typ":"JWT"}')
    expect(JSON.parse(claims!)).toEqual({
      action: 'REJECT',
      requestId: 'r-9',
      rejectionReason: 'amount above limit',
      iat: 1_700_000_000,
    })
  })

  it('omits rejectionReason when there is none, and round-trips through the co-signer side check', async () => {
    const token = await signCallbackResponse({ action: 'APPROVE', requestId: 'r-1' }, handler.privateKey)
    await expect(verifyCallbackResponse(token, handler.publicKey)).resolves.toEqual({
      action: 'APPROVE',
      requestId: 'r-1',
    })
  })

  it('treats PascalCase claims as a protocol violation', async () => {
    const token = await signCallbackRequest({ Action: 'APPROVE', RequestId: 'r-1' }, handler.privateKey)
    await expect(verifyCallbackResponse(token, handler.publicKey)).rejects.toBeInstanceOf(JwtMalformed)
  })

  it('refuses a response signed with a key other than the registered handler key', async () => {
    const token = await signCallbackResponse({ action: 'APPROVE', requestId: 'r-1' }, stranger.privateKey)
    await expect(verifyCallbackResponse(token, handler.publicKey)).rejects.toBeInstanceOf(JwtSignatureInvalid)
  })
})
