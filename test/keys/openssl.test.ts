/**
 * End-to-end against the real openssl binary: keys and CSRs made by either tool, fingerprints compared
 * with the operator's own openssl | sha256sum pipelines, and openssl verifying what Countersign writes.
 */
import { execFileSync } from 'node:child_process'
import { createHash, createPrivateKey } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  InMemoryNonceStore,
  createCsr,
  readKeyMaterial,
  spkiFingerprint,
  verifyRequest,
} from '../../src/keys/index.js'
import { runCli } from '../support/cli.js'
import { API_KEY, NOW, NOW_SECONDS, URI, claims, fixedClock } from './request-tokens.js'

const dir = mkdtempSync(join(tmpdir(), 'cs-keys-openssl-'))
const at = (name: string) => join(dir, name)

function openssl(...args: string[]): string {
  return execFileSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] })
}

/** The operator's pipeline, run by the shell exactly as documented; FILE is passed through the environment. */
function pipeline(command: string, file: string): string {
  const output = execFileSync('sh', ['-c', `${command} | sha256sum`], {
    cwd: dir,
    env: { ...process.env, FILE: file },
    encoding: 'utf8',
  })
  return output.split(' ')[0]!
}
const keyPipeline = (file: string, inform = 'PEM') =>
  pipeline(`openssl pkey -in "$FILE" -inform ${inform} -pubout -outform pem`, file)
const csrPipeline = (file: string, inform = 'PEM') =>
  pipeline(`openssl req -in "$FILE" -inform ${inform} -pubkey -noout -outform pem`, file)
const certPipeline = (file: string) => pipeline('openssl x509 -in "$FILE" -pubkey -noout', file)

async function fingerprintCli(file: string): Promise<string> {
  const result = await runCli(['keys', 'fingerprint', file], dir)
  expect(result.code).toBe(0)
  return result.out.split('  ')[0]!
}

beforeAll(() => {
  // The seed procedure of every Fireblocks guide: a 4096-bit key and its CSR in one openssl command.
  openssl(
    'req',
    '-new',
    '-newkey',
    'rsa:4096',
    '-nodes',
    '-keyout',
    'seed.key',
    '-out',
    'seed.csr',
    '-subj',
    '/O=Acme/CN=treasury-bot',
  )
  openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'other.key')
  openssl('req', '-new', '-key', 'other.key', '-out', 'other.csr', '-subj', '/CN=other')
})

describe('keys check against openssl-made keys and CSRs', () => {
  it("a key and CSR from the seed procedure: MATCH, exit 0, with the pipelines' fingerprints", async () => {
    const result = await runCli(['keys', 'check', '--key', 'seed.key', '--csr', 'seed.csr'], dir)
    expect(result.code).toBe(0)
    expect(result.out.split('\n').at(-1)).toBe('MATCH')
    expect(keyPipeline(at('seed.key'))).toBe(csrPipeline(at('seed.csr')))
    expect(result.out).toContain(`key  ${keyPipeline(at('seed.key'))}`)
    expect(result.out).toContain(`csr  ${csrPipeline(at('seed.csr'))}`)
  })

  it('a CSR made from another key: MISMATCH, exit 1', async () => {
    const result = await runCli(['keys', 'check', '--key', 'seed.key', '--csr', 'other.csr'], dir)
    expect(result.code).toBe(1)
    expect(result.out).toContain('MISMATCH')
  })
})

describe('keys fingerprint equals the openssl pipelines, byte for byte', () => {
  it('for openssl keys in PKCS#8, traditional and DER form, and openssl CSRs in PEM and DER', async () => {
    openssl('genrsa', '-traditional', '-out', 'trad.key', '3072')
    openssl('pkey', '-in', 'seed.key', '-outform', 'DER', '-out', 'seed.key.der')
    openssl('req', '-in', 'seed.csr', '-outform', 'DER', '-out', 'seed.csr.der')
    expect(readFileSync(at('trad.key'), 'utf8')).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/)
    expect(await fingerprintCli('seed.key')).toBe(keyPipeline(at('seed.key')))
    expect(await fingerprintCli('trad.key')).toBe(keyPipeline(at('trad.key')))
    expect(await fingerprintCli('seed.key.der')).toBe(keyPipeline(at('seed.key.der'), 'DER'))
    expect(await fingerprintCli('seed.csr')).toBe(csrPipeline(at('seed.csr')))
    expect(await fingerprintCli('seed.csr.der')).toBe(csrPipeline(at('seed.csr.der'), 'DER'))
  })

  it('for keys and CSRs made by countersign', async () => {
    expect((await runCli(['keys', 'generate', '--name', 'ours', '--bits', '2048'], dir)).code).toBe(0)
    const fingerprint = await fingerprintCli('ours.csr')
    expect(fingerprint).toBe(csrPipeline(at('ours.csr')))
    expect(await fingerprintCli('ours.key')).toBe(keyPipeline(at('ours.key')))
    expect(fingerprint).toBe(keyPipeline(at('ours.key')))
  })

  it('for a TLS certificate (the SPKI pin of certificate mode), RSA or ECDSA', async () => {
    openssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'tls.key',
      '-out',
      'tls.crt',
      '-subj',
      '/CN=handler.internal',
      '-days',
      '1',
    )
    openssl('req', '-x509', '-key', 'seed.key', '-out', 'seed.crt', '-subj', '/CN=handler', '-days', '1')
    expect(await fingerprintCli('tls.crt')).toBe(certPipeline(at('tls.crt')))
    expect(await fingerprintCli('seed.crt')).toBe(certPipeline(at('seed.crt')))
    expect((await runCli(['keys', 'fingerprint', 'tls.crt'], dir)).out).toContain('certificate, EC 256 bits')
  })
})

describe('openssl accepts what countersign writes', () => {
  it('openssl req -verify accepts our CSR, with the subject in order and a SHA-256 RSA signature', async () => {
    expect(
      (
        await runCli(
          ['keys', 'generate', '--name', 'bot', '--bits', '2048', '--subject', '/O=Acme/CN=treasury-bot'],
          dir,
        )
      ).code,
    ).toBe(0)
    const verified = execFileSync('openssl', ['req', '-in', 'bot.csr', '-verify', '-noout', '-subject'], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    expect(verified.trim()).toBe('subject=O = Acme, CN = treasury-bot')
    expect(openssl('req', '-in', 'bot.csr', '-noout', '-text')).toContain(
      'Signature Algorithm: sha256WithRSAEncryption',
    )
  })

  it('our CSR for an openssl key is byte for byte the one openssl req writes', () => {
    openssl('req', '-new', '-key', 'other.key', '-out', 'same.csr', '-subj', '/C=US/O=Acme/CN=treasury-bot')
    const key = createPrivateKey(readFileSync(at('other.key')))
    expect(createCsr(key, '/C=US/O=Acme/CN=treasury-bot')).toBe(readFileSync(at('same.csr'), 'utf8'))
  })

  it('openssl reads our private key as a valid PKCS#8 RSA key', () => {
    expect(readFileSync(at('bot.key'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/)
    expect(openssl('pkey', '-in', 'bot.key', '-check', '-noout')).toContain('Key is valid')
  })

  it('openssl rejects a CSR of ours altered after signing, and so do we', async () => {
    const altered = readFileSync(at('bot.csr'), 'utf8').replace(
      /\n(.)/,
      (_m, c: string) => `\n${c === 'A' ? 'B' : 'A'}`,
    )
    writeFileSync(at('altered.csr'), altered)
    expect(() => openssl('req', '-in', 'altered.csr', '-verify', '-noout')).toThrow()
    expect((await runCli(['keys', 'fingerprint', 'altered.csr'], dir)).code).toBe(2)
  })
})

describe('encrypted keys made by openssl', () => {
  it('PEM and DER: ask for the passphrase, then match with it', async () => {
    writeFileSync(at('pass.txt'), 'correct horse\n', { mode: 0o600 })
    openssl(
      'pkey',
      '-in',
      'seed.key',
      '-aes-256-cbc',
      '-passout',
      'pass:correct horse',
      '-out',
      'seed.enc.key',
    )
    openssl(
      'pkcs8',
      '-topk8',
      '-in',
      'seed.key',
      '-outform',
      'DER',
      '-passout',
      'pass:correct horse',
      '-out',
      'seed.enc.der',
    )
    for (const key of ['seed.enc.key', 'seed.enc.der']) {
      const locked = await runCli(['keys', 'check', '--key', key, '--csr', 'seed.csr'], dir)
      expect(locked.code).toBe(2)
      expect(locked.err).toContain('--passphrase-file')
      const opened = await runCli(
        ['keys', 'check', '--key', key, '--csr', 'seed.csr', '--passphrase-file', 'pass.txt'],
        dir,
      )
      expect(opened.code).toBe(0)
    }
  })
})

describe('request authentication interoperates with openssl signatures', () => {
  it('verifyRequest accepts an RS256 JWT whose signature openssl dgst made', async () => {
    const b64url = (text: string) => Buffer.from(text).toString('base64url')
    const input = `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }))}.${b64url(JSON.stringify(claims()))}`
    writeFileSync(at('input.txt'), input)
    const signature = execFileSync('openssl', ['dgst', '-sha256', '-sign', 'seed.key', 'input.txt'], {
      cwd: dir,
    })
    const token = `${input}.${signature.toString('base64url')}`
    const registered = readKeyMaterial(readFileSync(at('seed.csr'))).publicKey
    const verified = await verifyRequest(
      { url: URI, headers: { authorization: `Bearer ${token}`, 'x-api-key': API_KEY } },
      {
        keys: { publicKeyFor: () => registered },
        nonces: new InMemoryNonceStore(fixedClock()),
        clock: fixedClock(),
      },
    )
    expect(verified.claims).toMatchObject({ sub: API_KEY, iat: NOW_SECONDS })
    expect(spkiFingerprint(registered)).toBe(
      createHash('sha256')
        .update(openssl('req', '-in', 'seed.csr', '-pubkey', '-noout'))
        .digest('hex'),
    )
    expect(NOW.getTime()).toBe(NOW_SECONDS * 1000)
  })
})
