/** `countersign --version` is answered by bin/ from package.json, before the command-line parser loads. */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CLI } from '../support/process.js'

const { version } = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8'),
) as {
  version: string
}

describe('countersign --version', () => {
  it.each(['--version', '-V'])('prints the package version for %s without loading dist/cli', (flag) => {
    // A loader hook that fails the process if any module of dist/cli is imported.
    const guard = `data:text/javascript,${encodeURIComponent(
      "export async function resolve(s, c, next) { const r = await next(s, c); if (r.url.includes('/dist/cli/')) throw new Error('loaded ' + r.url); return r }",
    )}`
    const register = `data:text/javascript,${encodeURIComponent(`import { register } from 'node:module'; register(${JSON.stringify(guard)})`)}`
    const out = execFileSync(process.execPath, ['--import', register, CLI, flag], { encoding: 'utf8' })
    expect(out).toBe(`${version}\n`)
  })
})
