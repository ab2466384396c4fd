import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { openFileProvider, SealError } from './index.js'
import type { KeyEncryptionProvider } from './index.js'

const dirs: string[] = []
const providers: KeyEncryptionProvider[] = []

afterEach(async () => {
  for (const provider of providers.splice(0)) await provider.close()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function kekPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cs-seal-file-'))
  dirs.push(dir)
  return join(dir, 'kek')
}

async function open(path: string, create = false): Promise<KeyEncryptionProvider> {
  const provider = await openFileProvider({ path, create })
  providers.push(provider)
  return provider
}

const DATA_KEY = new Uint8Array(32).fill(0xa5)

describe('openFileProvider', () => {
  it('creates a 32-byte KEK file with mode 0600 and no temporary file beside it', async () => {
    const path = kekPath()
    await open(path, true)
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(readFileSync(path)).toHaveLength(32)
    expect(readdirSync(join(path, '..'))).toEqual(['kek'])
  })

  it('unwraps what it wrapped (RFC 5649: 40 bytes for a 32-byte key), also after reopening the file', async () => {
    const path = kekPath()
    const created = await open(path, true)
    const wrapped = await created.wrap(DATA_KEY)
    expect(wrapped).toHaveLength(40)
    expect(await created.unwrap(wrapped)).toEqual(DATA_KEY)
    const reopened = await open(path)
    expect(reopened.keyId).toBe(created.keyId)
    expect(await reopened.unwrap(wrapped)).toEqual(DATA_KEY)
  })

  it('names the KEK by a fingerprint that is not the key', async () => {
    const path = kekPath()
    const provider = await open(path, true)
    expect(provider.keyId).toMatch(/^file:[0-9a-f]{16}$/)
    expect(readFileSync(path).toString('hex')).not.toContain(provider.keyId.slice(5))
    expect((await open(kekPath(), true)).keyId).not.toBe(provider.keyId)
  })

  it('refuses with CS_SEAL_WRONG_KEK a key wrapped by another KEK file, or altered', async () => {
    const wrapped = await (await open(kekPath(), true)).wrap(DATA_KEY)
    const other = await open(kekPath(), true)
    await expect(other.unwrap(wrapped)).rejects.toMatchObject({ code: 'CS_SEAL_WRONG_KEK' })
    const provider = await open(kekPath(), true)
    const altered = await provider.wrap(DATA_KEY)
    altered[5]! ^= 1
    await expect(provider.unwrap(altered)).rejects.toMatchObject({ code: 'CS_SEAL_WRONG_KEK' })
  })

  it.each(['644', '640', '604', '660'])(
    'refuses to read a KEK file of mode 0%s, naming the chmod that fixes it',
    async (octal) => {
      const path = kekPath()
      await open(path, true)
      chmodSync(path, Number.parseInt(octal, 8))
      const error = await openFileProvider({ path }).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(SealError)
      expect(error).toMatchObject({ code: 'CS_SEAL_KEK_FILE' })
      expect((error as SealError).message).toContain(`chmod 600 ${path}`)
      expect((error as SealError).message).toContain(`mode 0${octal}`)
      chmodSync(path, 0o600)
      await open(path)
    },
  )

  it('refuses a KEK file that is missing or not 32 bytes', async () => {
    const path = kekPath()
    await expect(openFileProvider({ path })).rejects.toMatchObject({
      code: 'CS_SEAL_KEK_FILE',
      message: expect.stringContaining('no such file'),
    })
    writeFileSync(path, Buffer.alloc(64).toString('hex'), { mode: 0o600 })
    await expect(openFileProvider({ path })).rejects.toMatchObject({
      code: 'CS_SEAL_KEK_FILE',
      message: expect.stringContaining('holds 128 bytes, not 32'),
    })
  })

  it('refuses to create a KEK file over an existing one, leaving it intact', async () => {
    const path = kekPath()
    await open(path, true)
    const before = readFileSync(path)
    await expect(openFileProvider({ path, create: true })).rejects.toMatchObject({
      code: 'CS_SEAL_KEK_FILE',
      message: expect.stringContaining('already exists'),
    })
    expect(readFileSync(path)).toEqual(before)
  })

  it('refuses to work once closed', async () => {
    const provider = await openFileProvider({ path: kekPath(), create: true })
    const wrapped = await provider.wrap(DATA_KEY)
    await provider.close()
    await expect(provider.unwrap(wrapped)).rejects.toMatchObject({ code: 'CS_SEAL_CLOSED' })
    await expect(provider.wrap(DATA_KEY)).rejects.toMatchObject({ code: 'CS_SEAL_CLOSED' })
  })
})
