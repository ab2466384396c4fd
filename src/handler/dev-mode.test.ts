import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { STARTER_POLICY } from './dev-mode.js'
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

  it('serves the approvals console on the admin listener at localhost, unless its port is chosen at start', async () => {
    const byDefault = loadConfigFile((await prepareDevelopmentMode(fresh())).configPath, {})
    expect(byDefault.console?.origin).toBe('http://localhost:9090')
    const chosen = await prepareDevelopmentMode(fresh(), '127.0.0.1:8080', '127.0.0.1:9191')
    expect(loadConfigFile(chosen.configPath, {}).console?.origin).toBe('http://localhost:9191')
    const free = loadConfigFile((await prepareDevelopmentMode(fresh(), '127.0.0.1:0')).configPath, {})
    expect(free.console).toBeUndefined()
  })

  it('names the public key of the handler as keys generate --for callback does', async () => {
    const setup = await prepareDevelopmentMode(fresh())
    expect(setup.handlerPublicKey.endsWith(join('keys', 'handler.pub'))).toBe(true)
    expect(existsSync(setup.handlerPublicKey)).toBe(true)
  })

  it('trusts the co-signers and answers for the API users it is given, with the policy it is given', async () => {
    const dir = fresh()
    const source = join(dirname(dir), 'given.yaml')
    writeFileSync(source, readFileSync(STARTER_POLICY, 'utf8').replace('version: 1', 'version: given-1'))
    await mkdir(join(dir, 'keys'), { recursive: true })
    const cosignerKey = join(dir, 'keys', 'cosigner-a.pub')
    const setup = await prepareDevelopmentMode(dir, '127.0.0.1:0', '127.0.0.1:0', {
      policySource: source,
      cosigners: [{ name: 'cosigner-a', publicKey: cosignerKey }],
      apiUsers: [{ signerId: '3f2c1d4e-5b6a-4c8d-9e0f-1a2b3c4d5e6f', name: 'signer "a"' }],
    })
    writeFileSync(cosignerKey, readFileSync(setup.cosignerPublicKey))
    const config = loadConfigFile(setup.configPath, {})
    expect(config.cosignerKeys.map((cosigner) => cosigner.name)).toEqual(['dev-cosigner', 'cosigner-a'])
    expect([...config.apiUsers.keys()]).toEqual(['dev-api-user', '3f2c1d4e-5b6a-4c8d-9e0f-1a2b3c4d5e6f'])
    expect(config.apiUsers.get('3f2c1d4e-5b6a-4c8d-9e0f-1a2b3c4d5e6f')?.name).toBe('signer "a"')
    expect(readFileSync(setup.policyPath, 'utf8')).toMatch(/^version: given-1$/m)
  })
})
