import { verify } from 'node:crypto'
import { CertificationRequest } from '@peculiar/asn1-csr'
import { AsnConvert } from '@peculiar/asn1-schema'
import { describe, expect, it } from 'vitest'
import { testKeyPair } from '../../test/support/keys.js'
import { KeyUnsupported } from '../protocol/index.js'
import {
  KeyUnreadable,
  SubjectInvalid,
  createCsr,
  parseSubject,
  readKeyMaterial,
  spkiFingerprint,
} from './index.js'

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
    const request = AsnConvert.parse(derOf(pem), CertificationRequest)
    const info = request.certificationRequestInfo
    const infoDer = Buffer.from(request.certificationRequestInfoRaw!)
    expect(info.version).toBe(0)
    expect(infoDer[1]).toBe(0x82)
    expect(infoDer.subarray(4, 7).toString('hex')).toBe('020100')
    expect(info.subject.map((rdn) => [rdn.length, rdn[0]!.value.utf8String])).toEqual([
      [1, 'Acme'],
      [1, 'treasury-bot'],
    ])
    expect(
      Buffer.from(AsnConvert.serialize(info.subjectPKInfo)).equals(
        pair.publicKey.export({ type: 'spki', format: 'der' }),
      ),
    ).toBe(true)
    expect(info.attributes).toHaveLength(0)
    expect(infoDer.subarray(-2).toString('hex')).toBe('a000')
    expect(Buffer.from(AsnConvert.serialize(request.signatureAlgorithm)).toString('hex')).toBe(
      '300d06092a864886f70d01010b0500',
    )
    expect(verify('sha256', infoDer, pair.publicKey, Buffer.from(request.signature))).toBe(true)
  })

  it('reads back to the same fingerprint as its key', () => {
    expect(spkiFingerprint(readKeyMaterial(pem).publicKey)).toBe(spkiFingerprint(pair.publicKey))
  })

  it('refuses a key under 2048 bits', () => {
    const weak = testKeyPair('weak', 1024)
    expect(() => createCsr(weak.privateKey, '/CN=x')).toThrow(KeyUnsupported)
  })
})

describe('reading a CSR', () => {
  const der = derOf(createCsr(pair.privateKey, '/CN=strict'))
  const asPem = (bytes: Buffer) =>
    `-----BEGIN CERTIFICATE REQUEST-----\n${bytes.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`

  it('refuses BER the parser would accept: trailing bytes, non-minimal and indefinite lengths', () => {
    const length = der.readUInt16BE(2)
    const variants = [
      Buffer.concat([der, Buffer.from([0xff])]),
      Buffer.concat([Buffer.from([0x30, 0x83, 0x00]), der.subarray(2)]),
      Buffer.concat([Buffer.from([0x30, 0x80]), der.subarray(4, 4 + length), Buffer.from([0, 0])]),
    ]
    expect(der[1]).toBe(0x82)
    for (const variant of variants) {
      expect(() => readKeyMaterial(asPem(variant))).toThrow(KeyUnreadable)
      expect(() => readKeyMaterial(asPem(variant))).toThrow(/could not be read .*: invalid CSR: not DER/)
      expect(() => readKeyMaterial(variant)).toThrow(KeyUnreadable)
    }
    expect(spkiFingerprint(readKeyMaterial(asPem(der)).publicKey)).toBe(spkiFingerprint(pair.publicKey))
  })
})
