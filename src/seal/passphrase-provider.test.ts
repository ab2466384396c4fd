import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { openPassphraseProvider, openSealer } from './index.js'
import type { KeyEncryptionProvider, ScryptCost, Sealer } from './index.js'

/** The lowest cost allowed, so that the tests stay fast; the default is checked on its own. */
const FAST: ScryptCost = { N: 2 ** 15, r: 8, p: 1 }
const DATA_KEY = new Uint8Array(32).fill(0x5a)

const dirs: string[] = []
const closers: (() => unknown)[] = []

afterEach(async () => {
  for (const close of closers.splice(0)) await close()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function provider(passphrase: string, cost: ScryptCost = FAST): KeyEncryptionProvider {
  const opened = openPassphraseProvider({ passphrase, cost })
  closers.push(() => opened.close())
  return opened
}

async function sealer(keyringPath: string, passphrase: string, create = false): Promise<Sealer> {
  const opened = await openSealer({ keyringPath, provider: provider(passphrase), create })
  closers.push(() => opened.close())
  return opened
}

describe('openPassphraseProvider', () => {
  it('round trip through a keyring: a record sealed under the passphrase opens after reopening', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-seal-pass-'))
    dirs.push(dir)
    const keyringPath = join(dir, 'keyring.json')
    const ref = { table: 'refresh_tokens', id: 'hub', version: 1 }
    const record = (await sealer(keyringPath, 'correct horse battery', true)).seal(ref, DATA_KEY)
    expect((await sealer(keyringPath, 'correct horse battery')).open(ref, record)).toEqual(DATA_KEY)
    await expect(sealer(keyringPath, 'correct horse battery!')).rejects.toMatchObject({
      code: 'CS_SEAL_WRONG_KEK',
      message: expect.stringContaining('wrong passphrase'),
    })
  })

  it('stores format, cost and a fresh salt with every wrap, and never the passphrase', async () => {
    const passphrase = 'correct horse battery'
    const wraps = [await provider(passphrase).wrap(DATA_KEY), await provider(passphrase).wrap(DATA_KEY)]
    for (const wrapped of wraps) {
      expect([...wrapped.subarray(0, 4)]).toEqual([1, 15, 8, 1])
      expect(wrapped).toHaveLength(4 + 16 + 40)
      expect(Buffer.from(wrapped).includes(Buffer.from(passphrase))).toBe(false)
    }
    expect(wraps[0]!.subarray(4, 20)).not.toEqual(wraps[1]!.subarray(4, 20))
  })

  it('uses N = 2^17, r = 8, p = 1 by default, and unwraps with the cost stored rather than its own', async () => {
    const byDefault = openPassphraseProvider({ passphrase: 'pass' })
    closers.push(() => byDefault.close())
    const wrapped = await byDefault.wrap(DATA_KEY)
    expect([...wrapped.subarray(0, 4)]).toEqual([1, 17, 8, 1])
    expect(await provider('pass', FAST).unwrap(wrapped)).toEqual(DATA_KEY)
  })

  it('derives the same KEK from a passphrase however its accents are composed (NFC)', async () => {
    const wrapped = await provider('cl\u00e9').wrap(DATA_KEY)
    expect(await provider('cle\u0301').unwrap(wrapped)).toEqual(DATA_KEY)
  })

  it.each<[string, string, ScryptCost]>([
    ['an empty passphrase', '', FAST],
    ['N below 2^15', 'pass', { N: 2 ** 14, r: 8, p: 1 }],
    ['N not a power of two', 'pass', { N: 40_000, r: 8, p: 1 }],
    ['r of 0', 'pass', { N: 2 ** 15, r: 0, p: 1 }],
    ['more than 1 GiB', 'pass', { N: 2 ** 20, r: 16, p: 1 }],
  ])('refuses %s with CS_SEAL_PASSPHRASE', (_, passphrase, cost) => {
    expect(() => openPassphraseProvider({ passphrase, cost })).toThrow(
      expect.objectContaining({ code: 'CS_SEAL_PASSPHRASE' }),
    )
  })

  it('refuses, before running scrypt, a wrapped key whose stored cost was altered out of bounds', async () => {
    const wrapped = await provider('pass').wrap(DATA_KEY)
    for (const [index, value] of [
      [1, 30],
      [1, 10],
      [2, 255],
      [0, 2],
    ] as const) {
      const altered = wrapped.slice()
      altered[index] = value
      await expect(provider('pass').unwrap(altered)).rejects.toMatchObject({
        code: 'CS_SEAL_KEYRING_INVALID',
      })
    }
    await expect(provider('pass').unwrap(wrapped.subarray(0, 20))).rejects.toMatchObject({
      code: 'CS_SEAL_KEYRING_INVALID',
    })
  })
})
