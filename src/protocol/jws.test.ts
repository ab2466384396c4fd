import { CompactSign, compactVerify, decodeProtectedHeader } from 'jose'
import { describe, expect, it } from 'vitest'
import { b64url } from '../testing/index.js'
import { testKeyPair } from '../../test/support/keys.js'
import { JwtMalformed, signCallbackRequest, signCallbackResponse, verifyRs256 } from './index.js'

const cosigner = testKeyPair('cosigner')
const handler = testKeyPair('handler')
const claims = { requestId: 'r-1', amountStr: '12.5', note: 'é ✓ \u2028' }

/** jose, the reference: what the codec produced with it before signing moved to node:crypto. */
async function joseSign(header: object, payload: unknown): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader(header as { alg: string })
    .sign(cosigner.privateKey)
}

describe('compact RS256 JWS over node:crypto, against jose', () => {
  it('signs tokens that jose verifies, with the header and payload bytes jose would sign', async () => {
    const token = await signCallbackRequest(claims, cosigner.privateKey)
    const { payload, protectedHeader } = await compactVerify(token, cosigner.publicKey, {
      algorithms: ['RS256'],
    })
    expect(new TextDecoder().decode(payload)).toBe(JSON.stringify(claims))
    expect(protectedHeader).toEqual({ typ: 'JWT', alg: 'RS256' })
    // RS256 (PKCS#1 v1.5) is deterministic: the same key and input give jose's token byte for byte.
    expect(token).toBe(await joseSign({ typ: 'JWT', alg: 'RS256' }, claims))
  })

  it('signs responses byte-identical to jose, header {"alg":"RS256","typ":"JWT"}', async () => {
    const token = await signCallbackResponse(
      { action: 'APPROVE', requestId: 'r-1' },
      handler.privateKey,
      1_700_000_000_000,
    )
    const expected = await new CompactSign(
      new TextEncoder().encode(JSON.stringify({ action: 'APPROVE', requestId: 'r-1', iat: 1_700_000_000 })),
    )
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
      .sign(handler.privateKey)
    expect(token).toBe(expected)
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'RS256', typ: 'JWT' })
  })

  it('verifies tokens jose signed', async () => {
    const token = await joseSign({ alg: 'RS256' }, claims)
    await expect(verifyRs256(token, [cosigner.publicKey])).resolves.toEqual({ payload: claims, keyIndex: 0 })
  })

  it('refuses what jose refuses: a critical extension such as b64=false', async () => {
    const [, payload, signature] = (await joseSign({ alg: 'RS256' }, claims)).split('.')
    const crit = `${b64url(JSON.stringify({ alg: 'RS256', b64: false, crit: ['b64'] }))}.${payload}.${signature}`
    await expect(verifyRs256(crit, [cosigner.publicKey])).rejects.toBeInstanceOf(JwtMalformed)
  })

  it('refuses characters outside base64url, which a lenient decoder would skip', async () => {
    const token = await signCallbackRequest(claims, cosigner.privateKey)
    const [header, payload, signature] = token.split('.')
    await expect(
      verifyRs256(`${header}.${payload}.${signature}=`, [cosigner.publicKey]),
    ).rejects.toBeInstanceOf(JwtMalformed)
    await expect(
      verifyRs256(`${header}.${payload}!.${signature}`, [cosigner.publicKey]),
    ).rejects.toBeInstanceOf(JwtMalformed)
    await expect(compactVerify(`${header}.${payload}.${signature}=`, cosigner.publicKey)).rejects.toThrow()
  })

  it('refuses a header that is JSON but not an object', async () => {
    const [, payload, signature] = (await signCallbackRequest(claims, cosigner.privateKey)).split('.')
    await expect(
      verifyRs256(`${b64url('"RS256"')}.${payload}.${signature}`, [cosigner.publicKey]),
    ).rejects.toBeInstanceOf(JwtMalformed)
  })
})
