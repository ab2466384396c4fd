import {
  copyFileSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { openFileProvider, openPassphraseProvider, openSealer, SealError } from './index.js'
import type { KeyEncryptionProvider, RecordRef, Sealer, SealErrorCode } from './index.js'

const dirs: string[] = []
const sealers: Sealer[] = []
const providers: KeyEncryptionProvider[] = []

afterEach(async () => {
  for (const sealer of sealers.splice(0)) sealer.close()
  for (const provider of providers.splice(0)) await provider.close()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cs-seal-'))
  dirs.push(dir)
  return dir
}

async function fileKek(path: string, create = false): Promise<KeyEncryptionProvider> {
  const provider = await openFileProvider({ path, create })
  providers.push(provider)
  return provider
}

async function track(opening: Promise<Sealer>): Promise<Sealer> {
  const sealer = await opening
  sealers.push(sealer)
  return sealer
}

/** A new store: a folder with a fresh KEK file and a fresh keyring. */
async function newStore(): Promise<{ dir: string; keyringPath: string; kekPath: string; sealer: Sealer }> {
  const dir = tempDir()
  const keyringPath = join(dir, 'keyring.json')
  const kekPath = join(dir, 'kek')
  const provider = await fileKek(kekPath, true)
  const sealer = await track(openSealer({ keyringPath, provider, create: true }))
  return { dir, keyringPath, kekPath, sealer }
}

/** Runs `action` and returns the SealError it throws (failing the test if it throws nothing or another error). */
async function sealErrorOf(action: () => unknown): Promise<SealError> {
  try {
    await action()
  } catch (error) {
    expect(error).toBeInstanceOf(SealError)
    return error as SealError
  }
  throw new Error('expected a SealError, nothing was thrown')
}

async function expectCode(action: () => unknown, code: SealErrorCode): Promise<SealError> {
  const error = await sealErrorOf(action)
  expect(error.code, error.message).toBe(code)
  return error
}

const SHARE: RecordRef = { table: 'key_shares', id: 'vault-7', version: 3 }
const secret = (text: string) => new TextEncoder().encode(text)

describe('openSealer and the sealed records', () => {
  it('opens what it sealed, from an empty record to a large one, and after the keyring is reopened', async () => {
    const { keyringPath, kekPath, sealer } = await newStore()
    const plaintexts = [new Uint8Array(0), secret('a key share'), new Uint8Array(1 << 20).fill(7)]
    const sealed = plaintexts.map((plaintext, version) => sealer.seal({ ...SHARE, version }, plaintext))
    // Buffer.equals: vitest's toEqual walks a megabyte element by element.
    const opensAll = (by: Sealer) =>
      sealed.every((record, version) =>
        Buffer.from(by.open({ ...SHARE, version }, record)).equals(plaintexts[version]!),
      )
    expect(opensAll(sealer)).toBe(true)
    const reopened = await track(openSealer({ keyringPath, provider: await fileKek(kekPath) }))
    expect(reopened.keyId).toBe(sealer.keyId)
    expect(opensAll(reopened)).toBe(true)
  })

  it('seals the same plaintext differently every time (a random nonce per record)', async () => {
    const { sealer } = await newStore()
    expect(sealer.seal(SHARE, secret('same'))).not.toEqual(sealer.seal(SHARE, secret('same')))
  })

  it('writes the keyring with mode 0600, as JSON without the data key, and leaves no temporary file', async () => {
    const { dir, keyringPath, sealer } = await newStore()
    expect(statSync(keyringPath).mode & 0o777).toBe(0o600)
    expect(readdirSync(dir).sort()).toEqual(['kek', 'keyring.json'])
    const keyring = JSON.parse(readFileSync(keyringPath, 'utf8'))
    expect(keyring).toMatchObject({ format: 'countersign-keyring', version: 1, keyId: sealer.keyId })
    expect(keyring.provider).toEqual({ kind: 'file', keyId: expect.stringMatching(/^file:[0-9a-f]{16}$/) })
    expect(Object.keys(keyring).sort()).toEqual([
      'check',
      'format',
      'keyId',
      'provider',
      'version',
      'wrappedDataKey',
    ])
  })

  it('refuses to create a keyring where one exists, and leaves it intact', async () => {
    const { keyringPath, kekPath } = await newStore()
    const before = readFileSync(keyringPath)
    const error = await expectCode(
      async () => openSealer({ keyringPath, provider: await fileKek(kekPath), create: true }),
      'CS_SEAL_KEYRING_EXISTS',
    )
    expect(error.message).toContain('refusing to replace it')
    expect(readFileSync(keyringPath)).toEqual(before)
  })

  it('says how to create a keyring when there is none', async () => {
    const dir = tempDir()
    const provider = await fileKek(join(dir, 'kek'), true)
    const error = await expectCode(
      () => openSealer({ keyringPath: join(dir, 'keyring.json'), provider }),
      'CS_SEAL_KEYRING_INVALID',
    )
    expect(error.message).toMatch(/no such file.*create: true/)
  })

  it('fails at open, not at the first record, with CS_SEAL_WRONG_KEK under another KEK file', async () => {
    const { dir, keyringPath } = await newStore()
    const other = await fileKek(join(dir, 'other-kek'), true)
    const error = await expectCode(() => openSealer({ keyringPath, provider: other }), 'CS_SEAL_WRONG_KEK')
    expect(error.message).toContain(other.keyId)
  })

  it('a store copied to another machine without its KEK is useless: a fresh KEK there fails at open', async () => {
    const { keyringPath, sealer } = await newStore()
    const record = sealer.seal(SHARE, secret('a key share'))
    const elsewhere = tempDir()
    copyFileSync(keyringPath, join(elsewhere, 'keyring.json'))
    writeFileSync(join(elsewhere, 'record'), record)
    const freshKek = await fileKek(join(elsewhere, 'kek'), true)
    await expectCode(
      () => openSealer({ keyringPath: join(elsewhere, 'keyring.json'), provider: freshKek }),
      'CS_SEAL_WRONG_KEK',
    )
  })

  it.each<[string, RecordRef]>([
    ['another id', { ...SHARE, id: 'vault-8' }],
    ['another table', { ...SHARE, table: 'presignatures' }],
    ['another version', { ...SHARE, version: 4 }],
    ['a table and id split elsewhere', { ...SHARE, table: 'key_share', id: `s${SHARE.id}` }],
  ])('refuses a record moved to %s, naming where it was read, not its content', async (_, moved) => {
    const { sealer } = await newStore()
    const record = sealer.seal(SHARE, secret('a key share'))
    const error = await expectCode(() => sealer.open(moved, record), 'CS_SEAL_TAMPERED')
    expect(error.record).toEqual(moved)
    expect(error.message).toContain(JSON.stringify(moved.id))
    expect(error.message).toContain(JSON.stringify(moved.table))
    expect(error.message).not.toContain('a key share')
  })

  it('refuses a record with any single byte flipped', async () => {
    const { sealer } = await newStore()
    const record = sealer.seal(SHARE, secret('short'))
    for (let position = 0; position < record.length; position++) {
      const flipped = record.slice()
      flipped[position]! ^= 0x01
      const error = await sealErrorOf(() => sealer.open(SHARE, flipped))
      // The keyring id travels in clear (bytes 1-16): flipped, it reads as another keyring's record.
      expect(error.code, `byte ${position}`).toBe(
        position >= 1 && position <= 16 ? 'CS_SEAL_FOREIGN_RECORD' : 'CS_SEAL_TAMPERED',
      )
    }
  })

  it('refuses every truncation of a record, and bytes appended to it', async () => {
    const { sealer } = await newStore()
    const record = sealer.seal(SHARE, secret('short'))
    for (let length = 0; length < record.length; length++)
      await expectCode(() => sealer.open(SHARE, record.subarray(0, length)), 'CS_SEAL_TAMPERED')
    await expectCode(() => sealer.open(SHARE, new Uint8Array([...record, 0])), 'CS_SEAL_TAMPERED')
  })

  it('refuses a record sealed under another keyring, even one wrapped by the same KEK', async () => {
    const { dir, kekPath, sealer } = await newStore()
    const other = await track(
      openSealer({ keyringPath: join(dir, 'other.json'), provider: await fileKek(kekPath), create: true }),
    )
    const error = await expectCode(
      () => sealer.open(SHARE, other.seal(SHARE, secret('x'))),
      'CS_SEAL_FOREIGN_RECORD',
    )
    expect(error.message).toContain(
      'sealed under another keyring: this store was copied from elsewhere or the keyring was replaced',
    )
  })

  it('calls the provider to unwrap exactly once, however many records are opened', async () => {
    const { keyringPath, kekPath } = await newStore()
    const provider = await fileKek(kekPath)
    let unwraps = 0
    const counting: KeyEncryptionProvider = {
      ...provider,
      unwrap: async (wrapped) => {
        unwraps += 1
        return provider.unwrap(wrapped)
      },
    }
    const sealer = await track(openSealer({ keyringPath, provider: counting }))
    for (let version = 0; version < 200; version++)
      sealer.open({ ...SHARE, version }, sealer.seal({ ...SHARE, version }, secret(`share ${version}`)))
    expect(unwraps).toBe(1)
  })

  it('keeps no copy of the data key the provider returned, and zeroes its own on close', async () => {
    const { keyringPath, kekPath } = await newStore()
    const provider = await fileKek(kekPath)
    const returned: Uint8Array[] = []
    const watching: KeyEncryptionProvider = {
      ...provider,
      unwrap: async (wrapped) => {
        const dataKey = await provider.unwrap(wrapped)
        returned.push(dataKey)
        return dataKey
      },
    }
    const sealer = await openSealer({ keyringPath, provider: watching })
    expect(returned[0]).toEqual(new Uint8Array(32))
    // The only way to observe the sealer's own copy is its private field.
    const own = (sealer as unknown as { key: { dataKey: Uint8Array } }).key.dataKey
    expect(own.some((byte) => byte !== 0)).toBe(true)
    sealer.close()
    expect(own.every((byte) => byte === 0)).toBe(true)
    await expectCode(() => sealer.seal(SHARE, secret('x')), 'CS_SEAL_CLOSED')
    await expectCode(() => sealer.open(SHARE, new Uint8Array(64)), 'CS_SEAL_CLOSED')
  })

  it('refuses an altered keyring: its key id changed, or a wrapped key taken from another keyring', async () => {
    const { dir, keyringPath, kekPath } = await newStore()
    const keyring = JSON.parse(readFileSync(keyringPath, 'utf8'))
    const write = (name: string, content: object) => {
      writeFileSync(join(dir, name), JSON.stringify(content), { mode: 0o600 })
      return join(dir, name)
    }
    const otherPath = join(dir, 'other.json')
    await track(openSealer({ keyringPath: otherPath, provider: await fileKek(kekPath), create: true }))
    const other = JSON.parse(readFileSync(otherPath, 'utf8'))
    for (const altered of [
      write('id.json', { ...keyring, keyId: other.keyId }),
      write('wrapped.json', { ...keyring, wrappedDataKey: other.wrappedDataKey }),
      write('check.json', { ...keyring, check: other.check }),
    ]) {
      const error = await expectCode(
        async () => openSealer({ keyringPath: altered, provider: await fileKek(kekPath) }),
        'CS_SEAL_KEYRING_INVALID',
      )
      expect(error.message).toContain('fails its key check')
    }
    for (const broken of [write('not-json.json', {}), join(dir, 'kek')])
      await expectCode(
        async () => openSealer({ keyringPath: broken, provider: await fileKek(kekPath) }),
        'CS_SEAL_KEYRING_INVALID',
      )
  })

  it('refuses to open a keyring with another kind of provider, naming the one that wrapped it', async () => {
    const { keyringPath } = await newStore()
    const provider = openPassphraseProvider({ passphrase: 'correct horse', cost: { N: 2 ** 15, r: 8, p: 1 } })
    providers.push(provider)
    const error = await expectCode(() => openSealer({ keyringPath, provider }), 'CS_SEAL_PROVIDER_MISMATCH')
    expect(error.message).toMatch(/wrapped by the file provider \(file:[0-9a-f]{16}\), not passphrase/)
  })

  it('rewraps the data key under a new KEK: records untouched, the old KEK refused', async () => {
    const { dir, keyringPath, kekPath, sealer } = await newStore()
    const record = sealer.seal(SHARE, secret('a key share'))
    const newKek = await fileKek(join(dir, 'new-kek'), true)
    await sealer.rewrap(newKek)
    expect(statSync(keyringPath).mode & 0o777).toBe(0o600)
    expect(sealer.open(SHARE, record)).toEqual(secret('a key share'))

    const reopened = await track(openSealer({ keyringPath, provider: await fileKek(join(dir, 'new-kek')) }))
    expect(reopened.open(SHARE, record)).toEqual(secret('a key share'))
    await expectCode(
      async () => openSealer({ keyringPath, provider: await fileKek(kekPath) }),
      'CS_SEAL_WRONG_KEK',
    )

    const passphrase = openPassphraseProvider({
      passphrase: 'correct horse',
      cost: { N: 2 ** 15, r: 8, p: 1 },
    })
    providers.push(passphrase)
    await reopened.rewrap(passphrase)
    const byPassphrase = await track(openSealer({ keyringPath, provider: passphrase }))
    expect(byPassphrase.open(SHARE, record)).toEqual(secret('a key share'))
  })

  it('refuses a rewrap by a provider that cannot unwrap what it wraps, keeping the keyring', async () => {
    const { dir, keyringPath, sealer } = await newStore()
    const before = readFileSync(keyringPath)
    const provider = await fileKek(join(dir, 'new-kek'), true)
    const broken: KeyEncryptionProvider = { ...provider, unwrap: async () => new Uint8Array(32) }
    await expectCode(() => sealer.rewrap(broken), 'CS_SEAL_WRONG_KEK')
    expect(readFileSync(keyringPath)).toEqual(before)
  })

  it.each<[string, RecordRef]>([
    ['an empty table', { ...SHARE, table: '' }],
    ['an empty id', { ...SHARE, id: '' }],
    ['an id with a lone surrogate', { ...SHARE, id: 'vault-\ud800' }],
    ['a negative version', { ...SHARE, version: -1 }],
    ['a fractional version', { ...SHARE, version: 1.5 }],
    ['an unsafe version', { ...SHARE, version: 2 ** 53 }],
  ])('refuses %s with CS_SEAL_BAD_INPUT', async (_, ref) => {
    const { sealer } = await newStore()
    await expectCode(() => sealer.seal(ref, secret('x')), 'CS_SEAL_BAD_INPUT')
    await expectCode(() => sealer.open(ref, sealer.seal(SHARE, secret('x'))), 'CS_SEAL_BAD_INPUT')
  })

  it('says so when the keyring cannot be written (its folder is missing)', async () => {
    const dir = tempDir()
    const provider = await fileKek(join(dir, 'kek'), true)
    const error = await expectCode(
      () => openSealer({ keyringPath: join(dir, 'missing', 'keyring.json'), provider, create: true }),
      'CS_SEAL_KEYRING_INVALID',
    )
    expect(error.message).toMatch(/cannot write keyring .*no such file/)
  })
})
