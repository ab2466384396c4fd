import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { testKeyPair } from '../../test/support/keys.js'
import { ConfigInvalid, compileConfig, loadConfigFile, readStoreUrl } from './index.js'

const cosigner = testKeyPair('cosigner')
const handler = testKeyPair('handler')
const dir = mkdtempSync(join(tmpdir(), 'countersign-config-'))

const valid = () => ({
  listen: '0.0.0.0:8443',
  basePath: 'fireblocks/callback/',
  cosigners: [{ name: 'a', publicKey: cosigner.publicPem }],
  apiUsers: [{ signerId: 'user-1', authMode: 'jwt', handlerKey: handler.privatePem, default: true }],
  policy: 'policy.yaml',
  store: 'sqlite:state/countersign.db',
})

function problemsOf(document: unknown, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    compileConfig(document, dir, env)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigInvalid)
    return [...(error as ConfigInvalid).problems]
  }
  throw new Error('the configuration was accepted')
}

describe('handler configuration', () => {
  it('compiles a valid file: paths resolved, base path normalised, defaults applied', () => {
    const config = compileConfig(valid(), dir, {})
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 8443,
      basePath: '/fireblocks/callback',
      policyPath: join(dir, 'policy.yaml'),
      storeUrl: `sqlite:${join(dir, 'state/countersign.db')}`,
      bodyLimitBytes: 1024 * 1024,
      decisionDeadlineMs: 25_000,
    })
    expect(config.defaultUsers.jwt?.signerId).toBe('user-1')
    expect(config.apiUsers.get('user-1')?.handlerKey?.asymmetricKeyDetails?.modulusLength).toBe(2048)
  })

  it('names every problem at once, each with its key and the fix', () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString()
    const problems = problemsOf({
      ...valid(),
      listen: 'localhost',
      decisionDeadline: '45s',
      apiUsers: [
        { signerId: 'user-1', authMode: 'jwt' },
        { signerId: 'user-1', authMode: 'jwt', handlerKey: weak },
        { signerId: 'user-3', authMode: 'certificate' },
      ],
    })
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^listen: "localhost" is not HOST:PORT/),
        expect.stringMatching(/^decisionDeadline: .*at most 29s/),
        expect.stringMatching(/^apiUsers\.0\.handlerKey: required in jwt mode/),
        expect.stringMatching(/^apiUsers\.1\.signerId: "user-1" is listed twice/),
        expect.stringMatching(/^apiUsers\.1\.handlerKey: .*1024 bits/),
        expect.stringMatching(/^apiUsers\.2\.authMode: certificate mode needs tls/),
      ]),
    )
  })

  it('refuses unknown keys and missing sections by name', () => {
    const withoutCosigners: Record<string, unknown> = { ...valid(), lisen: '1.2.3.4:1' }
    delete withoutCosigners.cosigners
    expect(problemsOf(withoutCosigners).join('\n')).toMatch(/cosigners[\s\S]*lisen|lisen[\s\S]*cosigners/)
  })

  it('reports an unreadable key file without its content', () => {
    const problems = problemsOf({ ...valid(), cosigners: [{ name: 'a', publicKey: 'missing.pub' }] })
    expect(problems).toEqual([
      expect.stringMatching(/^cosigners\.0\.publicKey: no such file; give the co-signer public key/),
    ])
  })

  it('substitutes ${VAR} from the environment, lets COUNTERSIGN_* override, and refuses an unset variable', () => {
    const document = {
      ...valid(),
      apiUsers: [{ signerId: 'user-1', handlerKey: '${HANDLER_KEY}', default: true }],
    }
    const config = compileConfig(document, dir, {
      HANDLER_KEY: handler.privatePem,
      COUNTERSIGN_STORE: 'postgres://db/cs',
      COUNTERSIGN_LISTEN: '127.0.0.1:9',
    })
    expect(config).toMatchObject({ storeUrl: 'postgres://db/cs', host: '127.0.0.1', port: 9 })
    expect(problemsOf(document)).toContain(
      'environment variable HANDLER_KEY is referenced but not set: export it',
    )
  })

  it('reads a YAML file, and the store URL alone for operator commands', () => {
    const file = join(dir, 'countersign.yaml')
    writeFileSync(join(dir, 'cosigner.pub'), cosigner.publicPem)
    writeFileSync(join(dir, 'handler.key'), handler.privatePem, { mode: 0o600 })
    writeFileSync(
      file,
      'cosigners: [{ name: a, publicKey: cosigner.pub }]\napiUsers: [{ signerId: u, handlerKey: handler.key }]\npolicy: p.yaml\nstore: sqlite:x.db\n',
    )
    expect(loadConfigFile(file, {}).storeUrl).toBe(`sqlite:${join(dir, 'x.db')}`)
    expect(readStoreUrl(file, {}, '/')).toBe(`sqlite:${join(dir, 'x.db')}`)
    writeFileSync(file, 'cosigners: [oops')
    expect(() => loadConfigFile(file, {})).toThrow(ConfigInvalid)
  })

  it('reads the store for operator commands as the handler does, without the secrets the rest needs', () => {
    const file = join(dir, 'operator.yaml')
    writeFileSync(
      file,
      'apiUsers: [{ signerId: u, handlerKey: "${HANDLER_KEY}" }]\nstore: sqlite:${STATE}/cs.db\n',
    )
    // HANDLER_KEY is not set for an approver: only the store key matters here.
    expect(readStoreUrl('operator.yaml', { STATE: 'state' }, dir)).toBe(`sqlite:${join(dir, 'state/cs.db')}`)
    // A relative COUNTERSIGN_STORE resolves against the configuration's folder, as compileConfig does.
    const env = { COUNTERSIGN_STORE: 'sqlite:other.db', HANDLER_KEY: handler.privatePem }
    expect(readStoreUrl(file, env, '/')).toBe(`sqlite:${join(dir, 'other.db')}`)
    expect(compileConfig({ ...valid() }, dir, env).storeUrl).toBe(`sqlite:${join(dir, 'other.db')}`)
    expect(readStoreUrl(undefined, { COUNTERSIGN_STORE: 'sqlite:here.db' }, '/tmp')).toBe(
      'sqlite:/tmp/here.db',
    )
    expect(() => readStoreUrl('operator.yaml', {}, dir)).toThrow(/STATE is referenced but not set/)
    expect(() => readStoreUrl(undefined, {}, dir)).toThrow(ConfigInvalid)
  })
})
