import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { testKeyPair } from '../../test/support/keys.js'
import { makeSelfSignedCertificate } from '../../test/support/tls.js'
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
      expect.stringMatching(
        /^cosigners\.0\.publicKey: not found \(ENOENT\) at .*missing\.pub; give the co-signer public key/,
      ),
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
    // Named once, at its key, and nothing read from the empty path it leaves (no spurious EISDIR).
    expect(problemsOf(document)).toEqual([
      'apiUsers.0.handlerKey: environment variable HANDLER_KEY is referenced but not set; export HANDLER_KEY, or write the value in the file',
    ])
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

  it('names the file, line and column of each problem in a file, and suggests the key meant', () => {
    const file = join(dir, 'typos.yaml')
    writeFileSync(join(dir, 'cosigner.pub'), cosigner.publicPem)
    writeFileSync(
      file,
      [
        'listen: nowhere',
        'cosigner: [{ name: a, publicKey: cosigner.pub }]',
        'apiUsers:',
        '  - signerId: u',
        '    handlerKye: handler.key',
        'policy: p.yaml',
      ].join('\n'),
    )
    const error = (() => {
      try {
        loadConfigFile(file, {})
      } catch (thrown) {
        return thrown as ConfigInvalid
      }
      throw new Error('the configuration was accepted')
    })()
    expect(error).toBeInstanceOf(ConfigInvalid)
    expect(error.problems).toEqual(
      expect.arrayContaining([
        `${file}:2:1 cosigner: unknown key; did you mean \`cosigners\`?`,
        `${file}:5:5 apiUsers.0.handlerKye: unknown key; did you mean \`handlerKey\`?`,
        // A missing key is placed at the document that lacks it.
        expect.stringMatching(/typos\.yaml:1:1 cosigners: required key is missing/),
      ]),
    )
  })

  it('names the line of a YAML syntax error and a missing file in words', () => {
    const file = join(dir, 'broken.yaml')
    writeFileSync(file, 'listen: 127.0.0.1:1\ncosigners: [oops\n')
    expect(() => loadConfigFile(file, {})).toThrow(new RegExp(`${file}:\\d+:\\d+ not valid YAML`))
    expect(() => loadConfigFile(join(dir, 'absent.yaml'), {})).toThrow(
      /absent\.yaml file not found; give the path/,
    )
  })

  it("refuses a TLS key that is not the certificate's key, naming both files", () => {
    const tls = makeSelfSignedCertificate(dir)
    const other = join(dir, 'other.key')
    writeFileSync(other, handler.privatePem)
    expect(problemsOf({ ...valid(), tls: { cert: tls.cert, key: other } })).toEqual([
      expect.stringMatching(/^tls: the TLS key .*other\.key does not match the certificate .*; give the key/),
    ])
    expect(compileConfig({ ...valid(), tls }, dir, {}).tls).toEqual(tls)
  })

  it('reads the server limits, defaulting each one', () => {
    const config = compileConfig(
      { ...valid(), limits: { requestTimeout: '3s', maxConnections: 10 } },
      dir,
      {},
    )
    expect(config.limits).toMatchObject({
      requestTimeoutMs: 3000,
      maxConnections: 10,
      headersTimeoutMs: 3000,
    })
    expect(problemsOf({ ...valid(), limits: { drainTimeout: 'soon' } })).toEqual([
      expect.stringMatching(/^limits\.drainTimeout: "soon" is not a duration/),
    ])
  })

  it('refuses a handler key that is not RSA-2048, with the reason', () => {
    const large = generateKeyPairSync('rsa', { modulusLength: 4096 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString()
    const users = [{ signerId: 'user-1', handlerKey: large, default: true }]
    expect(problemsOf({ ...valid(), apiUsers: users })).toEqual([
      "apiUsers.0.handlerKey: is an RSA-4096 key: co-signers accept only an RSA-2048 key for the callback handler's answers, and would refuse every one it signs; generate one with `countersign keys generate --for callback` and configure its public key on the co-signer",
    ])
  })

  it('reads the admin listener, and refuses one that is not an address or shares the callback port', () => {
    const config = compileConfig({ ...valid(), admin: { listen: '127.0.0.1:9090' } }, dir, {})
    expect(config.admin).toEqual({ host: '127.0.0.1', port: 9090 })
    expect(compileConfig(valid(), dir, {}).admin).toBeUndefined()
    expect(problemsOf({ ...valid(), admin: { listen: 'nine' } })).toEqual([
      'admin.listen: "nine" is not HOST:PORT; write e.g. 127.0.0.1:9090',
    ])
    expect(problemsOf({ ...valid(), admin: { listen: '0.0.0.0:8443' } })).toEqual([
      'admin.listen: is the address of `listen`; give the admin listener a port of its own',
    ])
  })

  describe('the approvals console', () => {
    const withConsole = (
      console: Record<string, unknown>,
      admin: unknown = { listen: '127.0.0.1:9090' },
    ) => ({
      ...valid(),
      ...(admin === null ? {} : { admin }),
      console,
    })
    const fix = 'write e.g. https://approvals.example.com, or http://localhost:9090 on a development machine'

    it("serves on an https:// origin, whose host is the passkeys' rpID, for 8h sessions unless told", () => {
      expect(
        compileConfig(withConsole({ origin: 'https://approvals.example.com' }), dir, {}).console,
      ).toEqual({
        origin: 'https://approvals.example.com',
        rpId: 'approvals.example.com',
        sessionTtlMs: 8 * 3_600_000,
      })
      const config = compileConfig(
        withConsole({ origin: 'https://approvals.example.com:8444/', sessionTtl: '30m' }),
        dir,
        {},
      )
      expect(config.console).toEqual({
        origin: 'https://approvals.example.com:8444',
        rpId: 'approvals.example.com',
        sessionTtlMs: 30 * 60_000,
      })
      expect(compileConfig(valid(), dir, {}).console).toBeUndefined()
    })

    it('takes plain http:// on localhost only, where browsers treat it as a secure context', () => {
      expect(compileConfig(withConsole({ origin: 'http://localhost:9090' }), dir, {}).console).toMatchObject({
        origin: 'http://localhost:9090',
        rpId: 'localhost',
      })
      for (const origin of ['http://approvals.example.com', 'http://localhost.example.com:9090'])
        expect(problemsOf(withConsole({ origin }))).toEqual([
          `console.origin: "${origin}" is not an https:// origin (plain http:// only on localhost); ${fix}`,
        ])
    })

    it('refuses an IP address, loopback too: browsers refuse passkeys there ("This is an invalid domain")', () => {
      for (const origin of ['http://127.0.0.1:9090', 'http://[::1]:9090', 'https://10.0.0.5'])
        expect(problemsOf(withConsole({ origin }))).toEqual([
          `console.origin: "${origin}" names an IP address: browsers use passkeys on a domain name only; ${fix}`,
        ])
    })

    it('refuses what is not an origin alone: no scheme, a path, a query, credentials, another scheme', () => {
      for (const origin of [
        'approvals.example.com',
        'https://approvals.example.com/console',
        'https://approvals.example.com?x=1',
        'https://alice:secret@approvals.example.com',
        'ftp://approvals.example.com',
        '',
      ])
        expect(problemsOf(withConsole({ origin }))).toEqual([
          `console.origin: "${origin}" is not an https:// origin (plain http:// only on localhost); ${fix}`,
        ])
    })

    it('needs the admin listener, where it is served', () => {
      expect(problemsOf(withConsole({ origin: 'https://approvals.example.com' }, null))).toEqual([
        'console: is served on the admin listener, which is not configured; add admin.listen',
      ])
    })

    it('refuses a session lifetime that is not a positive duration, and a missing origin', () => {
      for (const sessionTtl of ['forever', '0s', '-1h', '8 h', ''])
        expect(problemsOf(withConsole({ origin: 'https://approvals.example.com', sessionTtl }))).toEqual([
          `console.sessionTtl: "${sessionTtl}" is not a duration; write e.g. 8h`,
        ])
      expect(problemsOf(withConsole({ sessionTtl: '8h' }))).toEqual([
        expect.stringMatching(/^console\.origin: /),
      ])
      expect(problemsOf(withConsole({ origin: 'https://approvals.example.com', extra: 1 }))).toEqual([
        'console.extra: unknown key; remove it (known keys here: origin, sessionTtl)',
      ])
    })
  })

  it("says what is wrong with a value in words, with the fix, not zod's text", () => {
    const problems = problemsOf({
      ...valid(),
      listen: 8443,
      logLevel: 'loud',
      bodyLimit: true,
      cosigners: [],
    })
    expect(problems).toEqual(
      expect.arrayContaining([
        'listen: is a number, not a string; write a string (in quotes if YAML would read it as a number or a boolean)',
        'logLevel: "loud" is not an allowed value; use one of: fatal, error, warn, info, debug, trace, silent',
        'bodyLimit: is a boolean, which this key does not take; write a string or a number',
        'cosigners: needs at least 1 item(s); add them',
      ]),
    )
    expect(problems.join('\n')).not.toMatch(/Invalid input|Too small/)
  })
})
