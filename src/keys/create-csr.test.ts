import { verify } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { testKeyPair } from '../../test/support/keys.js'
import { DerTag, readDer, readDerChildren } from './der.js'
import { KeyUnsupported } from '../protocol/index.js'
import { SubjectInvalid, createCsr, parseSubject, readKeyMaterial, spkiFingerprint } from './index.js'

const pair = testKeyPair('csr')

function derOf(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64')
}

describe('parseSubject', () => {
  it('keeps the order of an openssl-style subject and unescapes "\\/"', () => {
    expect(parseSubject('/O=Acme\\/EU/OU=Treasury/CN=treasury-bot')).toEqual([
      { type: 'O', value: 'Acme/EU' },
      { type: 'OU', value: 'Treasury' },
      { type: 'CN', value: 'treasury-bot' },
    ])
  })

  it.each([
    ['O=Acme/CN=bot', /must start with "\/"/],
    ['/O=Acme/XX=bot', /"XX=bot" is not TYPE=VALUE/],
    ['/O=Acme/CN', /"CN" is not TYPE=VALUE/],
    ['/CN=', /CN must have 1 to 64 characters/],
    [`/CN=${'x'.repeat(65)}`, /CN must have 1 to 64 characters/],
    ['/C=USA', /C must have 1 to 2 characters/],
    ['/C=U_', /may use only letters/],
  ])('refuses %s with one sentence', (subject, message) => {
    expect(() => parseSubject(subject)).toThrow(SubjectInvalid)
    expect(() => parseSubject(subject)).toThrow(message)
  })
})

describe('createCsr', () => {
  const pem = createCsr(pair.privateKey, '/O=Acme/CN=treasury-bot')

  it('writes a PEM CERTIFICATE REQUEST of 64-column lines', () => {
    expect(pem).toMatch(
      /^-----BEGIN CERTIFICATE REQUEST-----\n([A-Za-z0-9+/=]{1,64}\n)+-----END CERTIFICATE REQUEST-----\n$/,
    )
  })

  it('holds version 0, the subject in order as UTF8Strings, the SPKI, no attributes and a SHA-256 RSA signature', () => {
    const request = readDer(derOf(pem))
    const [info, algorithm, signature] = readDerChildren(request, [
      DerTag.sequence,
      DerTag.sequence,
      DerTag.bitString,
    ])
    const [version, name, spki, attributes] = readDerChildren(info!)
    expect(version!.encoded.toString('hex')).toBe('020100')
    const values = readDerChildren(name!).map((rdn) => readDerChildren(readDerChildren(rdn)[0]!)[1]!)
    expect(values.map((value) => [value.tag, value.content.toString()])).toEqual([
      [DerTag.utf8String, 'Acme'],
      [DerTag.utf8String, 'treasury-bot'],
    ])
    expect(spki!.encoded.equals(pair.publicKey.export({ type: 'spki', format: 'der' }))).toBe(true)
    expect(attributes!.encoded.toString('hex')).toBe('a000')
    expect(algorithm!.encoded.toString('hex')).toBe('300d06092a864886f70d01010b0500')
    expect(verify('sha256', info!.encoded, pair.publicKey, signature!.content.subarray(1))).toBe(true)
  })

  it('reads back to the same fingerprint as its key', () => {
    expect(spkiFingerprint(readKeyMaterial(pem).publicKey)).toBe(spkiFingerprint(pair.publicKey))
  })

  it('refuses a key under 2048 bits', () => {
    const weak = testKeyPair('weak', 1024)
    expect(() => createCsr(weak.privateKey, '/CN=x')).toThrow(KeyUnsupported)
  })
})

describe('DER reader', () => {
  it('refuses trailing bytes, lengths past the end, indefinite and non-minimal lengths', () => {
    expect(() => readDer(Buffer.from('3000ff', 'hex'))).toThrow(/trailing bytes/)
    expect(() => readDer(Buffer.from('3005020100', 'hex'))).toThrow(/past the end/)
    expect(() => readDer(Buffer.from('30800000', 'hex'))).toThrow(/indefinite/)
    expect(() => readDer(Buffer.from('3081030201ff', 'hex'))).toThrow(/non-minimal/)
    expect(() => readDer(Buffer.from('3103020100', 'hex'), DerTag.sequence)).toThrow(/unexpected outer tag/)
  })
})
