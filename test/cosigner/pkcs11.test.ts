/**
 * A co-signer folder sealed under a KEK on a real PKCS#11 token (SoftHSM2, Debian's `softhsm2`), through
 * the commands an operator types: the key created on the token, the folder created under it, opened again
 * with the PIN, refused without it or with a wrong one. C_Initialize reads SOFTHSM2_CONF once per process:
 * this file has its own. Under CI=true a missing SoftHSM2 fails the run (.ci/run installs it).
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../support/cli.js'

const LIBRARY = process.env.COUNTERSIGN_TEST_PKCS11_LIB ?? '/usr/lib/softhsm/libsofthsm2.so'
const PIN = '135792'
const missing = !existsSync(LIBRARY)
  ? `no PKCS#11 library at ${LIBRARY}`
  : spawnSync('softhsm2-util', ['--version']).status !== 0
    ? 'softhsm2-util is not on the PATH'
    : undefined
const skip = missing !== undefined && process.env.CI !== 'true'
if (skip)
  console.warn(
    `co-signer PKCS#11 tests skipped: ${missing} (apt-get install softhsm2); under CI=true they fail`,
  )

describe.skipIf(skip)('a co-signer sealed under a PKCS#11 token (SoftHSM2)', () => {
  const root = mkdtempSync(join(tmpdir(), 'cs-cosigner-hsm-'))
  const dir = join(root, 'cosigner')
  const token = [
    '--pkcs11-library',
    LIBRARY,
    '--pkcs11-token',
    'cosigner-hsm',
    '--pkcs11-key',
    'cosigner-kek',
  ]
  const withPin = { COUNTERSIGN_PKCS11_PIN: PIN }

  beforeAll(() => {
    if (missing !== undefined) throw new Error(`the PKCS#11 tests must run in CI: ${missing}`)
    const conf = join(root, 'softhsm2.conf')
    writeFileSync(conf, `directories.tokendir = ${root}\nobjectstore.backend = file\nlog.level = ERROR\n`)
    process.env.SOFTHSM2_CONF = conf
    execFileSync(
      'softhsm2-util',
      ['--init-token', '--free', '--label', 'cosigner-hsm', '--so-pin', '24681357', '--pin', PIN],
      {
        stdio: 'pipe',
      },
    )
  })
  afterAll(() => {
    rmSync(root, { recursive: true, force: true })
    delete process.env.SOFTHSM2_CONF
  })

  it('creates the KEK on the token, seals a new folder under it, and opens it only with the PIN', async () => {
    const key = await runCli(['cosigner', 'pkcs11-key', ...token], root, withPin)
    expect(key.code, key.err).toBe(0)
    expect(key.out).toContain('not extractable')

    const init = await runCli(['cosigner', 'init', '--dir', dir, '--kek', 'pkcs11', ...token], root, withPin)
    expect(init.code, init.err).toBe(0)
    expect(JSON.parse(readFileSync(join(dir, 'cosigner.json'), 'utf8'))).toMatchObject({
      kek: { kind: 'pkcs11', tokenLabel: 'cosigner-hsm', keyLabel: 'cosigner-kek' },
    })
    expect(readdirSync(root).some((name) => name.endsWith('.kek'))).toBe(false) // no KEK on disk

    const publicKey = await runCli(['cosigner', 'public-key', '--dir', dir], root, withPin)
    expect(publicKey.code, publicKey.err).toBe(0)
    expect(publicKey.out).toContain('BEGIN PUBLIC KEY')
    // The same key again: it was sealed under the token's KEK, not made anew.
    expect((await runCli(['cosigner', 'public-key', '--dir', dir], root, withPin)).out).toBe(publicKey.out)

    const status = await runCli(['cosigner', 'status', '--dir', dir], root, withPin)
    expect(status.code, status.err).toBe(0)
    expect(JSON.parse(status.out)).toMatchObject({ kek: 'pkcs11', apiUsers: 0, audit: { ok: true } })

    const locked = await runCli(['cosigner', 'status', '--dir', dir], root)
    expect(locked.code).not.toBe(0)
    expect(locked.err).toMatch(/CS_COSIGNER_LOCKED|no PIN was given/)

    const wrong = await runCli(['cosigner', 'status', '--dir', dir], root, {
      COUNTERSIGN_PKCS11_PIN: '000000',
    })
    expect(wrong.code).not.toBe(0)
    expect(wrong.err).not.toContain('000000')
  })
})
