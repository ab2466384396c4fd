import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { expectUnusable, runCli } from '../../test/support/cli.js'
import { openStore } from '../storage/index.js'

const dirs: string[] = []
function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cs-store-option-'))
  dirs.push(dir)
  return dir
}
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })))

describe('commands that read a store refuse one that does not exist', () => {
  const readers: readonly (readonly string[])[] = [
    ['audit', 'verify'],
    ['audit', 'export'],
    ['approvals', 'list'],
    ['approvals', 'approve', 'req-1', '--key', 'alice.key'],
    ['velocity', 'release', '--request-id', 'req-1'],
  ]
  for (const command of readers) {
    it(`${command.slice(0, 2).join(' ')}: names the missing file and the fix, and creates nothing`, async () => {
      const dir = workspace()
      // A vote is signed before the store is opened: give it a real approver key.
      if (command.includes('--key'))
        expect((await runCli(['keys', 'generate', '--for', 'approver', '--name', 'alice'], dir)).code).toBe(0)
      const result = await runCli([...command, '--store', 'sqlite:typo.db'], dir)
      expectUnusable(result, /the store .*typo\.db does not exist.*never creates one.*--store sqlite:PATH/)
      expect(existsSync(join(dir, 'typo.db'))).toBe(false)
    })
  }

  it('refuses a folder given as the store', async () => {
    const dir = workspace()
    mkdirSync(join(dir, 'state'))
    expectUnusable(
      await runCli(['audit', 'verify', '--store', 'sqlite:state'], dir),
      /is a folder, not a SQLite database/,
    )
  })

  it('reads a store that exists, given relative to where the command runs', async () => {
    const dir = workspace()
    await (await openStore(`sqlite:${join(dir, 'countersign.db')}`)).close()
    const result = await runCli(['audit', 'verify', '--store', 'sqlite:countersign.db'], dir)
    expect(result).toMatchObject({ code: 0, err: '' })
    expect(result.out).toMatch(/^audit chain intact: 0 entries/)
  })
})
