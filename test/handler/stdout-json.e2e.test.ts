import { rmSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { spawnCli, type CliProcess } from '../support/process.js'
import { writeConfigFolder } from './support.js'

describe('handler process output', () => {
  const started: { cli: CliProcess; dir: string }[] = []
  afterEach(async () => {
    for (const { cli, dir } of started.splice(0)) {
      cli.child.kill('SIGTERM')
      await cli.exited
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('writes only JSON log lines to stdout in production mode, human lines to stderr', async () => {
    const dir = writeConfigFolder()
    const cli = spawnCli(['handler', 'start', '--config', 'countersign.yaml'], dir)
    started.push({ cli, dir })
    let stdout = ''
    let stderr = ''
    cli.child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    cli.child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    await cli.listening
    await expect.poll(() => stdout, { timeout: 5_000 }).toMatch(/callback handler listening/)
    cli.child.kill('SIGTERM')
    expect(await cli.exited).toBe(0)
    const lines = stdout.trim().split('\n')
    for (const line of lines) expect(() => JSON.parse(line) as unknown, line).not.toThrow()
    // The shutdown is logged too.
    expect(lines.map((line) => (JSON.parse(line) as { msg?: string }).msg)).toContain('stopped')
    expect(stderr).toMatch(/Countersign handler listening on http:\/\/127\.0\.0\.1:\d+ \(pid \d+\)/)
  })
})
