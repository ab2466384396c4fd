import { describe, expect, it } from 'vitest'
import { closestKey, createServiceLogger, MAX_LOG_STRING, storeOpenFailed } from './index.js'

describe('closest key', () => {
  it('suggests the key meant, and nothing for a key unlike any', () => {
    expect(closestKey('cosigner', ['cosigners', 'apiUsers', 'policy'])).toBe('cosigners')
    expect(closestKey('Polcy', ['cosigners', 'apiUsers', 'policy'])).toBe('policy')
    expect(closestKey('frobnicate', ['cosigners', 'apiUsers', 'policy'])).toBeUndefined()
  })
})

describe('store open failures', () => {
  it('names a native module built for another Node.js, found under the store error it caused', () => {
    const abi = Object.assign(
      new Error('was compiled against a different Node.js version using NODE_MODULE_VERSION 115'),
      {
        code: 'ERR_DLOPEN_FAILED',
      },
    )
    const wrapped = new Error('store open failed', { cause: abi })
    expect(storeOpenFailed('sqlite:/var/lib/cs.db', wrapped).message).toBe(
      `cannot open the store sqlite:/var/lib/cs.db: its native module was built for another Node.js (this is ${process.version}, ABI ${process.versions.modules}); run \`npm rebuild better-sqlite3\` with this node, or reinstall`,
    )
  })

  it('names PostgreSQL credentials and a missing database without the password', () => {
    const refused = Object.assign(new Error('password authentication failed'), { code: '28P01' })
    const message = storeOpenFailed('postgres://cs:s3cret@db:5432/cs', refused).message
    expect(message).toBe(
      'cannot open the store postgres://cs:***@db:5432/cs: PostgreSQL refused the credentials (28P01); fix the user and password in the store URL',
    )
  })
})

describe('service logger', () => {
  /** A service logger writing its lines into an array. */
  const capturingLogger = () => {
    const lines: string[] = []
    const log = createServiceLogger({
      service: 'test',
      level: 'info',
      destination: { write: (line) => void lines.push(line) },
    })
    return { log, lines }
  }

  it('cuts every long string field, nested ones too', () => {
    const { log, lines } = capturingLogger()
    log.warn({ detail: 'a'.repeat(700_000), nested: { alg: 'b'.repeat(5_000) } }, 'refused')
    const line = JSON.parse(lines[0]!) as { detail: string; nested: { alg: string }; pid: number }
    expect(lines[0]!.length).toBeLessThan(3 * MAX_LOG_STRING)
    expect(line.detail).toMatch(/^a{512}… \(699488 more characters\)$/)
    expect(line.nested.alg.startsWith('b'.repeat(MAX_LOG_STRING))).toBe(true)
    expect(line.pid).toBe(process.pid)
  })

  it('cuts deep nesting and long arrays even when every string is short, and keeps the rest as it is', () => {
    const { log, lines } = capturingLogger()
    const fields = {
      requestId: 'r-1',
      amountUsd: 12.5,
      deep: { a: { b: { c: { d: 1 } } } },
      many: Array(40).fill(1),
    }
    log.info(fields, 'decision')
    const line = JSON.parse(lines[0]!) as {
      requestId: string
      amountUsd: number
      deep: unknown
      many: unknown[]
    }
    expect(line).toMatchObject({
      requestId: 'r-1',
      amountUsd: 12.5,
      deep: { a: { b: { c: '[nested too deep]' } } },
    })
    expect(line.many).toHaveLength(32)
    expect(fields.many).toHaveLength(40)
  })
})
