import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { spawnCli, type CliProcess } from '../../test/support/process.js'

describe('the development banner', () => {
  let cli: CliProcess | undefined
  let dir: string | undefined
  afterEach(async () => {
    cli?.child.kill('SIGTERM')
    await cli?.exited
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  /** Starts the development-mode handler and returns its banner once it lists its commands. */
  async function banner(env: NodeJS.ProcessEnv): Promise<string> {
    dir = mkdtempSync(join(tmpdir(), 'cs-banner-'))
    cli = spawnCli(['handler', 'start', '--dev-dir', join(dir, 'state'), '--listen', '127.0.0.1:0'], dir, env)
    await cli.listening
    await expect.poll(() => cli!.output(), { timeout: 5000 }).toMatch(/approvals list/)
    return cli.output()
  }

  it('suggests the installed command, never `npx countersign`, when started directly', async () => {
    const text = await banner({ npm_command: undefined })
    expect(text).toMatch(/^ {2}countersign simulate --url http:\/\/127\.0\.0\.1:\d+ /m)
    expect(text).not.toMatch(/npx/)
  })

  it('suggests `npx countersign` when started through npm, which finds the same package', async () => {
    expect(await banner({ npm_command: 'start' })).toMatch(/^ {2}npx countersign simulate /m)
  })
})
