/**
 * `countersign keys fingerprint … | head -1`, `countersign audit export | head -1`: the reader goes away
 * and the command's next write fails with EPIPE. It must stop quietly, not print a stack trace.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { CLI } from '../support/process.js'
import { testKeyPair } from '../support/keys.js'

const dir = mkdtempSync(join(tmpdir(), 'cs-pipe-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
writeFileSync(join(dir, 'user.pub'), testKeyPair('cli-user').publicPem)

/** Runs the CLI with a stdout whose reader has already gone, as after `| head -1`. */
function runWithClosedStdout(args: readonly string[]): Promise<{ code: number | null; err: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: dir })
  child.stdout.destroy()
  let err = ''
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()))
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, err })))
}

describe('output into a closed pipe', () => {
  it('keys fingerprint stops quietly with exit 0', async () => {
    const { code, err } = await runWithClosedStdout(['keys', 'fingerprint', 'user.pub'])
    expect(err).toBe('')
    expect(code).toBe(0)
  })

  it('keys generate stops quietly too, after writing its files', async () => {
    const { code, err } = await runWithClosedStdout(['keys', 'generate', '--name', 'h', '--for', 'callback'])
    expect(err).not.toMatch(/EPIPE|\n\s+at /)
    expect(code).toBe(0)
  })
})
