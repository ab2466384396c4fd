import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from '../../../test/support/cli.js'
import { rawExec, testDatabases } from '../../../test/support/databases.js'
import { facts, fixed } from '../../../test/support/planners.js'
import { openStore } from '../../storage/index.js'

/** Records `count` decisions (one audit entry each) in the store at `url`. */
async function decide(url: string, prefix: string, count: number): Promise<void> {
  const store = await openStore(url)
  try {
    for (let i = 0; i < count; i++) await store.settle(facts(`${prefix}-${i}`), fixed())
  } finally {
    await store.close()
  }
}

describe.each(testDatabases)('audit anchors on $name', (database) => {
  const dir = mkdtempSync(join(tmpdir(), 'cs-anchor-'))
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true })
    await database.dropAll()
  })
  const cli = (...args: string[]) => runCli(args, dir)

  /** A store of 6 entries, anchored with a fresh key; returns the store URL. */
  async function anchored(name: string): Promise<string> {
    const url = await database.freshUrl()
    await decide(url, name, 6)
    expect((await cli('keys', 'generate', '--for', 'approver', '--name', name)).code).toBe(0)
    expect(statSync(join(dir, `${name}.key`)).mode & 0o777).toBe(0o600)
    const anchor = await cli(
      'audit',
      'anchor',
      '--key',
      `${name}.key`,
      '--out',
      `${name}.anchor`,
      '--store',
      url,
    )
    expect(anchor).toMatchObject({ code: 0, out: expect.stringMatching(/6 entries, head [0-9a-f]{64}/) })
    const verified = await cli(
      'audit',
      'verify',
      '--anchor',
      `${name}.anchor`,
      '--anchor-key',
      `${name}.pub`,
      '--store',
      url,
    )
    expect(verified).toMatchObject({
      code: 0,
      out: expect.stringMatching(/intact: 6 entries.*holds the anchored entry 6/),
    })
    return url
  }

  it('detects the last entries removed (truncation), which the chain alone does not', async () => {
    const url = await anchored('cut')
    // The attacker removes the last decisions and the entries that recorded them.
    await rawExec(url, 'DELETE FROM decisions WHERE audit_hash IN (SELECT hash FROM audit_log WHERE seq > 4)')
    await rawExec(url, 'DELETE FROM audit_log WHERE seq > 4')
    expect((await cli('audit', 'verify', '--store', url)).code).toBe(0)
    const result = await cli(
      'audit',
      'verify',
      '--anchor',
      'cut.anchor',
      '--anchor-key',
      'cut.pub',
      '--store',
      url,
    )
    expect(result).toMatchObject({
      code: 1,
      out: expect.stringMatching(
        /BROKEN at entry 5: the chain ends at entry 4, but the anchor names 6 entries: .*truncated/,
      ),
    })
  })

  it('detects a chain rebuilt from scratch, internally consistent and as long', async () => {
    const url = await anchored('rebuilt')
    await rawExec(url, 'DELETE FROM audit_log')
    await rawExec(url, 'DELETE FROM decisions')
    await decide(url, 'forged', 8)
    expect((await cli('audit', 'verify', '--store', url)).code).toBe(0)
    const result = await cli(
      'audit',
      'verify',
      '--anchor',
      'rebuilt.anchor',
      '--anchor-key',
      'rebuilt.pub',
      '--store',
      url,
    )
    expect(result).toMatchObject({
      code: 1,
      out: expect.stringMatching(/BROKEN at entry 6: its hash is not the anchored .*rewritten or rebuilt/),
    })
  })

  it('refuses an altered anchor, and one signed by a key other than the pinned one', async () => {
    const url = await anchored('forged')
    const anchor = JSON.parse(readFileSync(join(dir, 'forged.anchor'), 'utf8')) as {
      statement: { entries: number }
    }
    anchor.statement.entries = 3
    writeFileSync(join(dir, 'altered.anchor'), JSON.stringify(anchor))
    expect(await cli('audit', 'verify', '--anchor', 'altered.anchor', '--store', url)).toMatchObject({
      code: 2,
      err: expect.stringMatching(/altered\.anchor's signature does not verify/),
    })
    expect((await cli('keys', 'generate', '--for', 'approver', '--name', 'other')).code).toBe(0)
    expect(
      await cli('audit', 'anchor', '--key', 'other.key', '--out', 'other.anchor', '--store', url),
    ).toMatchObject({ code: 0 })
    expect(
      await cli('audit', 'verify', '--anchor', 'other.anchor', '--anchor-key', 'forged.pub', '--store', url),
    ).toMatchObject({ code: 2, err: expect.stringMatching(/is not signed by the anchor key/) })
  })
})
