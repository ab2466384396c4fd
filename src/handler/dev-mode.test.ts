import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadConfigFile, prepareDevelopmentMode } from './index.js'

const dirs: string[] = []
const fresh = () => {
  const dir = mkdtempSync(join(tmpdir(), 'cs-dev-mode-'))
  dirs.push(dir)
  return join(dir, '.countersign')
}
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })))

describe('development mode', () => {
  it("points the policy copy's $schema comment at the package's policy schema", async () => {
    const setup = await prepareDevelopmentMode(fresh())
    const schema = /\$schema=(\S+)/.exec(readFileSync(setup.policyPath, 'utf8'))?.[1]
    expect(schema).toBeDefined()
    const target = resolve(dirname(setup.policyPath), schema!)
    expect(target.endsWith(join('schemas', 'policy.schema.json'))).toBe(true)
    expect(existsSync(target)).toBe(true)
  })

  it('has an admin listener on 127.0.0.1:9090, or on a free port when the handler asks for one', async () => {
    const byDefault = loadConfigFile((await prepareDevelopmentMode(fresh())).configPath, {})
    expect(byDefault.admin).toEqual({ host: '127.0.0.1', port: 9090 })
    const free = loadConfigFile((await prepareDevelopmentMode(fresh(), '127.0.0.1:0')).configPath, {})
    expect(free.admin).toEqual({ host: '127.0.0.1', port: 0 })
    const chosen = await prepareDevelopmentMode(fresh(), '127.0.0.1:8080', '127.0.0.1:9191')
    expect(loadConfigFile(chosen.configPath, {}).admin).toEqual({ host: '127.0.0.1', port: 9191 })
  })

  it('names the public key of the handler as keys generate --for callback does', async () => {
    const setup = await prepareDevelopmentMode(fresh())
    expect(setup.handlerPublicKey.endsWith(join('keys', 'handler.pub'))).toBe(true)
    expect(existsSync(setup.handlerPublicKey)).toBe(true)
  })
})
