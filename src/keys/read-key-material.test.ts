import { execFileSync } from 'node:child_process'
import { X509Certificate, generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { testKeyPair } from '../../test/support/keys.js'
import {
  KeyEncrypted,
  KeyMaterialKind,
  KeyUnreadable,
  createCsr,
  readKeyMaterial,
  spkiFingerprint,
} from './index.js'

const pair = testKeyPair('material')
const fingerprint = spkiFingerprint(pair.publicKey)
const csrPem = createCsr(pair.privateKey, '/O=Acme/CN=treasury-bot')
const csrDer = Buffer.from(csrPem.replace(/-----[^-]+-----|\s/g, ''), 'base64')

function unreadable(data: Buffer | string, pattern: RegExp, passphrase?: string): void {
  const read = () =>
    readKeyMaterial(data, { label: 'k.pem', ...(passphrase === undefined ? {} : { passphrase }) })
  expect(read).toThrow(KeyUnreadable)
  expect(read).toThrow(pattern)
}

describe('readKeyMaterial: every kind, PEM and DER, to the same public key', () => {
  const inputs: [string, Buffer | string, KeyMaterialKind, 'pem' | 'der'][] = [
    ['PKCS#8 private key PEM', pair.privatePem, KeyMaterialKind.privateKey, 'pem'],
    [
      'PKCS#1 private key PEM',
      pair.privateKey.export({ type: 'pkcs1', format: 'pem' }),
      KeyMaterialKind.privateKey,
      'pem',
    ],
    [
      'PKCS#8 private key DER',
      pair.privateKey.export({ type: 'pkcs8', format: 'der' }),
      KeyMaterialKind.privateKey,
      'der',
    ],
    [
      'PKCS#1 private key DER',
      pair.privateKey.export({ type: 'pkcs1', format: 'der' }),
      KeyMaterialKind.privateKey,
      'der',
    ],
    ['SPKI public key PEM', pair.publicPem, KeyMaterialKind.publicKey, 'pem'],
    [
      'PKCS#1 public key PEM',
      pair.publicKey.export({ type: 'pkcs1', format: 'pem' }),
      KeyMaterialKind.publicKey,
      'pem',
    ],
    [
      'SPKI public key DER',
      pair.publicKey.export({ type: 'spki', format: 'der' }),
      KeyMaterialKind.publicKey,
      'der',
    ],
    ['CSR PEM', csrPem, KeyMaterialKind.csr, 'pem'],
    ['CSR DER', csrDer, KeyMaterialKind.csr, 'der'],
  ]
  it.each(inputs)('%s', (_name, data, kind, format) => {
    const material = readKeyMaterial(data)
    expect(material).toMatchObject({ kind, format, keyType: 'rsa', bits: 2048 })
    expect(spkiFingerprint(material.publicKey)).toBe(fingerprint)
  })

  it('reads a non-RSA key too (fingerprints of TLS keys), with its type and curve size', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const material = readKeyMaterial(ec.privateKey.export({ type: 'sec1', format: 'pem' }))
    expect(material).toMatchObject({ kind: KeyMaterialKind.privateKey, keyType: 'ec', bits: 256 })
  })

  it('never returns the private key itself', () => {
    const material = readKeyMaterial(pair.privatePem)
    expect(material.publicKey.type).toBe('public')
    expect(Object.values(material).some((value) => (value as { type?: string })?.type === 'private')).toBe(
      false,
    )
  })

  it('refuses a kind the caller did not expect, naming both', () => {
    expect(() => readKeyMaterial(csrPem, { label: 'api.key', expect: [KeyMaterialKind.privateKey] })).toThrow(
      'api.key is a certificate signing request; expected a private key',
    )
  })
})

describe('readKeyMaterial: one clear sentence for each unusable input', () => {
  it('an empty file', () => unreadable('', /k\.pem is empty/))

  it('a PEM file cut short before its END line', () => {
    unreadable(pair.privatePem.slice(0, 400), /has no END line \(the file is truncated\)/)
  })

  it('a PEM file with lines missing in the middle', () => {
    const lines = pair.publicPem.split('\n')
    unreadable([...lines.slice(0, 3), ...lines.slice(5)].join('\n'), /could not be read/)
  })

  it('a PEM body that is not base64', () => {
    unreadable('-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n', /not valid base64/)
  })

  it('a PEM block of another type', () => {
    unreadable(
      '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n',
      /"OPENSSH PRIVATE KEY"/,
    )
  })

  it('a file that is neither PEM nor DER (a JWT, say)', () => {
    unreadable('eyJhbGciOiJSUzI1NiJ9.e30.c2ln', /neither PEM .* nor DER/)
  })

  it('DER that is no key, CSR or certificate', () => {
    unreadable(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x05]), /DER but not a key/)
  })

  it('a CSR altered after signing (its self-signature fails)', () => {
    const altered = Buffer.from(csrDer)
    const at = altered.indexOf(Buffer.from('treasury-bot'))
    altered[at] = 'T'.charCodeAt(0)
    unreadable(altered, /signature does not verify/)
  })

  it('an encrypted private key without a passphrase, and with a wrong one', () => {
    const encrypted = pair.privateKey.export({
      type: 'pkcs8',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: 'right',
    })
    expect(() => readKeyMaterial(encrypted, { label: 'k.pem' })).toThrow(KeyEncrypted)
    expect(() => readKeyMaterial(encrypted, { label: 'k.pem' })).toThrow(
      /encrypted private key; give its passphrase/,
    )
    expect(() => readKeyMaterial(encrypted, { passphrase: 'wrong' })).toThrow(/could not be decrypted/)
    expect(spkiFingerprint(readKeyMaterial(encrypted, { passphrase: 'right' }).publicKey)).toBe(fingerprint)
  })

  it('never puts key material in a message', () => {
    const damaged = pair.privatePem.replace(/\n[A-Za-z0-9+/]{64}\n/, '\n')
    try {
      readKeyMaterial(damaged)
      expect.unreachable()
    } catch (error) {
      const body = pair.privatePem.split('\n')[1]!
      expect((error as Error).message).not.toContain(body.slice(0, 16))
    }
  })
})

describe('readKeyMaterial: certificates', () => {
  it('reads the public key of a certificate, PEM and DER', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-cert-'))
    writeFileSync(join(dir, 'k.pem'), pair.privatePem, { mode: 0o600 })
    execFileSync('openssl', [
      'req',
      '-x509',
      '-key',
      join(dir, 'k.pem'),
      '-subj',
      '/CN=handler',
      '-days',
      '1',
      '-out',
      join(dir, 'c.pem'),
    ])
    const pem = readFileSync(join(dir, 'c.pem'))
    for (const data of [pem, Buffer.from(new X509Certificate(pem).raw)]) {
      const material = readKeyMaterial(data)
      expect(material.kind).toBe(KeyMaterialKind.certificate)
      expect(spkiFingerprint(material.publicKey)).toBe(fingerprint)
    }
  })
})
