import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { errnoCode, writeFileAtomically } from './index.js'

const mode = (path: string) => statSync(path).mode & 0o777
const folders: string[] = []
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true })
})

function folder(): string {
  const created = mkdtempSync(join(tmpdir(), 'cs-core-write-'))
  folders.push(created)
  return created
}

describe('writeFileAtomically', () => {
  it('creates a file with mode 0600 unless told otherwise, with the exact content and nothing beside it', async () => {
    const dir = folder()
    expect(
      await writeFileAtomically(join(dir, 'secret'), new Uint8Array([1, 2, 3]), { replace: false }),
    ).toBe(true)
    expect(await writeFileAtomically(join(dir, 'public'), 'text', { replace: false, mode: 0o644 })).toBe(true)
    expect([mode(join(dir, 'secret')), mode(join(dir, 'public'))]).toEqual([0o600, 0o644])
    expect([...readFileSync(join(dir, 'secret'))]).toEqual([1, 2, 3])
    expect(readdirSync(dir).sort()).toEqual(['public', 'secret'])
  })

  it('keeps an existing file without replace (answering false) and replaces it, narrowing its mode, with replace', async () => {
    const dir = folder()
    const path = join(dir, 'existing')
    writeFileSync(path, 'old')
    chmodSync(path, 0o644)
    expect(await writeFileAtomically(path, 'refused', { replace: false })).toBe(false)
    expect([readFileSync(path, 'utf8'), mode(path)]).toEqual(['old', 0o644])
    expect(await writeFileAtomically(path, 'new', { replace: true })).toBe(true)
    expect([readFileSync(path, 'utf8'), mode(path)]).toEqual(['new', 0o600])
    expect(readdirSync(dir)).toEqual(['existing']) // neither write left its temporary file behind
  })

  it('rejects with the system error when the folder is missing', async () => {
    const error = await writeFileAtomically(join(folder(), 'missing', 'file'), 'x', { replace: true }).catch(
      (caught: unknown) => caught,
    )
    expect(errnoCode(error)).toBe('ENOENT')
  })
})
