import { generateKeyPairSync } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { expectUnusable, runCli } from '../../../test/support/cli.js'
import { testKeyPair } from '../../../test/support/keys.js'
import { createCsr, readKeyMaterial, signRequest, spkiFingerprint } from '../../keys/index.js'

const user = testKeyPair('cli-user')
const stranger = testKeyPair('cli-stranger')
const API_KEY = '3f0c5c8e-7d1a-4b8e-9a51-2f7f3c1d9e42'

function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cs-keys-cli-'))
  writeFileSync(join(dir, 'user.key'), user.privatePem, { mode: 0o600 })
  writeFileSync(join(dir, 'user.csr'), createCsr(user.privateKey, '/CN=user'))
  writeFileSync(join(dir, 'user.pub'), user.publicPem)
  writeFileSync(join(dir, 'stranger.key'), stranger.privatePem, { mode: 0o600 })
  return dir
}

function expectNoKeyMaterial(text: string, privatePem: string): void {
  expect(text).not.toContain('PRIVATE KEY')
  for (const line of privatePem.split('\n').filter((l) => l.length === 64)) expect(text).not.toContain(line)
}

describe('countersign keys generate', () => {
  it('writes a 4096-bit PKCS#8 key with mode 0600 and a matching CSR, and prints no key material', async () => {
    const dir = workspace()
    const result = await runCli(
      ['keys', 'generate', '--name', 'bot', '--subject', '/O=Acme/CN=treasury-bot'],
      dir,
    )
    expect(result.code).toBe(0)
    const keyPem = readFileSync(join(dir, 'bot.key'), 'utf8')
    expect(keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/)
    expect(statSync(join(dir, 'bot.key')).mode & 0o777).toBe(0o600)
    const key = readKeyMaterial(keyPem)
    const csr = readKeyMaterial(readFileSync(join(dir, 'bot.csr')))
    expect(key.bits).toBe(4096)
    expect(spkiFingerprint(csr.publicKey)).toBe(spkiFingerprint(key.publicKey))
    expect(result.out).toContain(`sha256 ${spkiFingerprint(key.publicKey)}`)
    expectNoKeyMaterial(result.out + result.err, keyPem)
  })

  it('refuses to overwrite existing files without --force, and replaces them with it', async () => {
    const dir = workspace()
    expect((await runCli(['keys', 'generate', '--name', 'bot', '--bits', '2048'], dir)).code).toBe(0)
    const before = readFileSync(join(dir, 'bot.key'), 'utf8')
    expectUnusable(
      await runCli(['keys', 'generate', '--name', 'bot', '--bits', '2048'], dir),
      /already exists; refusing/,
    )
    expect(readFileSync(join(dir, 'bot.key'), 'utf8')).toBe(before)
    expect((await runCli(['keys', 'generate', '--name', 'bot', '--bits', '2048', '--force'], dir)).code).toBe(
      0,
    )
    expect(readFileSync(join(dir, 'bot.key'), 'utf8')).not.toBe(before)
  })

  it('writes neither file when the key file alone already exists', async () => {
    const dir = workspace()
    writeFileSync(join(dir, 'bot.key'), 'an older key')
    expectUnusable(
      await runCli(['keys', 'generate', '--name', 'bot', '--bits', '2048'], dir),
      /bot\.key already exists/,
    )
    expect(existsSync(join(dir, 'bot.csr'))).toBe(false)
    expect(readFileSync(join(dir, 'bot.key'), 'utf8')).toBe('an older key')
  })

  it('--for callback writes an RSA-2048 key and its public key PEM, and refuses other sizes', async () => {
    const dir = workspace()
    const result = await runCli(
      ['keys', 'generate', '--name', 'handler', '--for', 'callback', '--out', '.'],
      dir,
    )
    expect(result.code).toBe(0)
    const publicKey = readKeyMaterial(readFileSync(join(dir, 'handler.pub')))
    expect(publicKey).toMatchObject({ kind: 'public key', bits: 2048 })
    expect(statSync(join(dir, 'handler.key')).mode & 0o777).toBe(0o600)
    const refused = await runCli(
      ['keys', 'generate', '--name', 'h2', '--for', 'callback', '--bits', '4096'],
      dir,
    )
    expectUnusable(refused, /RSA-2048, the only size co-signers accept/)
  })

  it.each([
    [['--name', '../escape'], /must be a file name/],
    [['--name', 'x', '--subject', 'CN=x'], /must start with "\/"/],
    [['--name', 'x', '--bits', '1024'], /multiple of 8 bits from 2048/],
    [['--name', 'x', '--out', 'user.pub'], /--out .*user\.pub is not a folder and cannot be created as one/],
  ])('refuses bad options %j with one sentence', async (args, message) => {
    expectUnusable(await runCli(['keys', 'generate', ...args], workspace()), message)
  })

  it('--out creates a folder that does not exist, readable by its owner only', async () => {
    const dir = workspace()
    const result = await runCli(
      ['keys', 'generate', '--name', 'h', '--for', 'callback', '--out', 'new/keys'],
      dir,
    )
    expect(result.code).toBe(0)
    expect(statSync(join(dir, 'new', 'keys')).mode & 0o777).toBe(0o700)
    expect(statSync(join(dir, 'new', 'keys', 'h.key')).mode & 0o777).toBe(0o600)
    expect(existsSync(join(dir, 'new', 'keys', 'h.pub'))).toBe(true)
  })
})

describe('countersign keys fingerprint', () => {
  it('prints the SPKI fingerprint, key type and size for a key and its CSR alike', async () => {
    const dir = workspace()
    const expected = spkiFingerprint(user.publicKey)
    for (const file of ['user.key', 'user.csr', 'user.pub']) {
      const result = await runCli(['keys', 'fingerprint', file], dir)
      expect(result.code).toBe(0)
      expect(result.out.split('\n')[0]).toBe(`${expected}  ${file}`)
      expect(result.out).toContain('RSA 2048 bits')
      expectNoKeyMaterial(result.out + result.err, user.privatePem)
    }
    const json = await runCli(['keys', 'fingerprint', 'user.csr', '--json'], dir)
    expect(JSON.parse(json.out)).toMatchObject({
      sha256: expected,
      kind: 'certificate signing request',
      bits: 2048,
    })
  })
})

describe('countersign keys check', () => {
  it('MATCH with exit 0 when the key belongs to the CSR, public key or certificate', async () => {
    const dir = workspace()
    for (const other of ['user.csr', 'user.pub']) {
      const result = await runCli(['keys', 'check', '--key', 'user.key', '--csr', other], dir)
      expect(result.code).toBe(0)
      expect(result.out.split('\n').at(-1)).toBe('MATCH')
      expectNoKeyMaterial(result.out + result.err, user.privatePem)
    }
  })

  it('MISMATCH with exit 1 and both fingerprints otherwise', async () => {
    const result = await runCli(['keys', 'check', '--key', 'stranger.key', '--csr', 'user.csr'], workspace())
    expect(result.code).toBe(1)
    expect(result.out).toContain(spkiFingerprint(stranger.publicKey))
    expect(result.out).toContain(spkiFingerprint(user.publicKey))
    expect(result.out).toMatch(/^MISMATCH: this private key does not belong to this CSR/m)
    expect(
      JSON.parse(
        (await runCli(['keys', 'check', '--key', 'stranger.key', '--csr', 'user.csr', '--json'], workspace()))
          .out,
      ),
    ).toMatchObject({ match: false })
  })

  it('asks for --passphrase-file for an encrypted key, and uses it', async () => {
    const dir = workspace()
    const encrypted = user.privateKey.export({
      type: 'pkcs8',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: 'open sesame',
    })
    writeFileSync(join(dir, 'enc.key'), encrypted, { mode: 0o600 })
    writeFileSync(join(dir, 'pass.txt'), 'open sesame\n', { mode: 0o600 })
    expectUnusable(
      await runCli(['keys', 'check', '--key', 'enc.key', '--csr', 'user.csr'], dir),
      /encrypted private key; give its passphrase with --passphrase-file/,
    )
    const opened = await runCli(
      ['keys', 'check', '--key', 'enc.key', '--csr', 'user.csr', '--passphrase-file', 'pass.txt'],
      dir,
    )
    expect(opened.code).toBe(0)
    writeFileSync(join(dir, 'wrong.txt'), 'nope')
    expectUnusable(
      await runCli(
        ['keys', 'check', '--key', 'enc.key', '--csr', 'user.csr', '--passphrase-file', 'wrong.txt'],
        dir,
      ),
      /could not be decrypted/,
    )
  })

  it('refuses a wrong file type, a truncated PEM, a non-RSA key, a short key and a missing file', async () => {
    const dir = workspace()
    writeFileSync(join(dir, 'cut.key'), user.privatePem.slice(0, 300))
    writeFileSync(
      join(dir, 'ec.key'),
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
    )
    writeFileSync(join(dir, 'short.key'), testKeyPair('short', 1024).privatePem)
    const cases: [string, string, RegExp][] = [
      ['user.csr', 'user.csr', /user\.csr is a certificate signing request; expected a private key/],
      ['user.key', 'user.key', /user\.key is a private key; expected a certificate signing request/],
      ['cut.key', 'user.csr', /truncated/],
      ['ec.key', 'user.csr', /ec\.key is ec; an RSA key is required/],
      ['short.key', 'user.csr', /short\.key has 1024 bits; at least 2048 are required/],
      ['absent.key', 'user.csr', /cannot read absent\.key: no such file/],
    ]
    for (const [key, csr, message] of cases) {
      expectUnusable(await runCli(['keys', 'check', '--key', key, '--csr', csr], dir), message)
    }
  })
})

describe('countersign keys diagnose', () => {
  const url = 'https://api.fireblocks.io/v1/transactions'
  const body = '{"assetId":"ETH","amount":"1"}'

  async function token(privateKey = user.privateKey, signedBody = body): Promise<string> {
    const { headers } = await signRequest({ apiKey: API_KEY, privateKey, url, body: signedBody })
    return headers.Authorization
  }

  function withBody(dir: string): string {
    writeFileSync(join(dir, 'body.json'), body)
    return 'body.json'
  }

  it('exit 0 when the request would be accepted; the JWT is never echoed', async () => {
    const dir = workspace()
    const jwt = await token()
    const result = await runCli(
      [
        'keys',
        'diagnose',
        '--key',
        'user.key',
        '--csr',
        'user.csr',
        '--jwt',
        jwt,
        '--url',
        url,
        '--body-file',
        withBody(dir),
        '--api-key',
        API_KEY,
      ],
      dir,
    )
    expect(result.code).toBe(0)
    expect(result.out).toMatch(/^ACCEPTED/)
    expect(result.out).not.toContain(jwt.slice(7, 40))
    expectNoKeyMaterial(result.out, user.privatePem)
  })

  it('exit 1 naming the key that does not belong to the CSR, with both fingerprints', async () => {
    const dir = workspace()
    const result = await runCli(
      [
        'keys',
        'diagnose',
        '--key',
        'stranger.key',
        '--csr',
        'user.csr',
        '--jwt',
        await token(stranger.privateKey),
        '--url',
        url,
        '--body-file',
        withBody(dir),
      ],
      dir,
    )
    expect(result.code).toBe(1)
    expect(result.out).toMatch(/^CAUSE: The private key does not belong to the registered CSR/)
    expect(result.out).toContain('HTTP 401 {"message":"invalid signature","code":-1}')
    expect(result.out).toContain(spkiFingerprint(stranger.publicKey))
    expect(result.out).toContain(spkiFingerprint(user.publicKey))
    expect(result.out).toMatch(/^FIX: .*create a new API user/m)
  })

  it('--json prints the same diagnosis as an object; --jwt-file and --pubkey work', async () => {
    const dir = workspace()
    writeFileSync(
      join(dir, 'token.txt'),
      `${await token(user.privateKey, '{"assetId": "ETH", "amount": "1"}')}\n`,
    )
    const result = await runCli(
      [
        'keys',
        'diagnose',
        '--pubkey',
        'user.pub',
        '--jwt-file',
        'token.txt',
        '--url',
        url,
        '--body-file',
        withBody(dir),
        '--json',
      ],
      dir,
    )
    expect(result.code).toBe(1)
    const diagnosis = JSON.parse(result.out)
    expect(diagnosis).toMatchObject({
      accepted: false,
      cause: { reason: 'body_hash_mismatch', apiCode: -7 },
      skipped: ['x_api_key'],
    })
    expect(diagnosis.cause.summary).toContain('spaced JSON serialisation')
  })

  it('a body-less --method lets it check the hash of an empty body', async () => {
    const dir = workspace()
    const { headers } = await signRequest({
      apiKey: API_KEY,
      privateKey: user.privateKey,
      url: `${url}?limit=1`,
    })
    const result = await runCli(
      [
        'keys',
        'diagnose',
        '--csr',
        'user.csr',
        '--jwt',
        headers.Authorization,
        '--method',
        'get',
        '--url',
        url,
        '--json',
      ],
      dir,
    )
    expect(JSON.parse(result.out).cause).toMatchObject({ reason: 'wrong_uri' })
    expect(JSON.parse(result.out).skipped).not.toContain('body_hash')
  })

  it('refuses unusable input with exit 2', async () => {
    const dir = workspace()
    const jwt = await token()
    expectUnusable(
      await runCli(['keys', 'diagnose', '--csr', 'user.csr', '--pubkey', 'user.pub', '--jwt', jwt], dir),
      /exactly one of --csr CSR and --pubkey PUB/,
    )
    expectUnusable(
      await runCli(['keys', 'diagnose', '--csr', 'user.csr'], dir),
      /exactly one of --jwt and --jwt-file/,
    )
    expectUnusable(
      await runCli(['keys', 'diagnose', '--csr', 'user.csr', '--jwt', jwt, '--url', 'vault/accounts'], dir),
      /--url must be an absolute URL/,
    )
    expectUnusable(
      await runCli(['keys', 'diagnose', '--csr', 'user.csr', '--jwt', jwt, '--body-file', 'nope.json'], dir),
      /cannot read the body file nope\.json/,
    )
  })
})
