import { chmodSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FileExists, writePrivateKeyFile, writePublicFile } from './index.js'

const PEM = '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'
const mode = (path: string) => statSync(path).mode & 0o777

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'cs-keys-'))
}

describe('writePrivateKeyFile', () => {
  it('creates the file with mode 0600 and the exact content', async () => {
    const path = join(tempDir(), 'api.key')
    await writePrivateKeyFile(path, PEM)
    expect(mode(path)).toBe(0o600)
    expect(readFileSync(path, 'utf8')).toBe(PEM)
  })

  it('refuses to overwrite an existing file, leaving it and no temporary file behind', async () => {
    const dir = tempDir()
    const path = join(dir, 'api.key')
    writeFileSync(path, 'precious')
    await expect(writePrivateKeyFile(path, PEM)).rejects.toThrow(FileExists)
    await expect(writePrivateKeyFile(path, PEM)).rejects.toThrow(/already exists; refusing to overwrite/)
    expect(readFileSync(path, 'utf8')).toBe('precious')
    expect(readdirSync(dir)).toEqual(['api.key'])
  })

  it('with force, replaces the file and narrows a wider mode to 0600', async () => {
    const dir = tempDir()
    const path = join(dir, 'api.key')
    writeFileSync(path, 'old')
    chmodSync(path, 0o644)
    await writePrivateKeyFile(path, PEM, { force: true })
    expect(readFileSync(path, 'utf8')).toBe(PEM)
    expect(mode(path)).toBe(0o600)
    expect(readdirSync(dir)).toEqual(['api.key'])
  })
})

describe('writePublicFile', () => {
  it('creates a 0644 file and also refuses to overwrite', async () => {
    const path = join(tempDir(), 'api.csr')
    await writePublicFile(path, 'csr')
    expect(mode(path)).toBe(0o644)
    await expect(writePublicFile(path, 'other')).rejects.toThrow(FileExists)
  })
})
