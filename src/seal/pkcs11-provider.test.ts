/**
 * The PKCS#11 provider against a real token: SoftHSM2 (Debian's `softhsm2`), with its tokens in a temporary
 * folder named by a softhsm2.conf of this test's own. C_Initialize is per process and reads SOFTHSM2_CONF, so
 * these tests live in their own file (vitest runs each file in its own process) and set it first.
 * In CI a missing SoftHSM2 fails the run; elsewhere the suite is skipped and says why.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { PKCS11 } from 'pkcs11js'
import { createPkcs11Key, openPkcs11Provider, openSealer } from './index.js'
import type { KeyEncryptionProvider, Pkcs11Options, Sealer } from './index.js'

const LIBRARY = process.env.COUNTERSIGN_TEST_PKCS11_LIB ?? '/usr/lib/softhsm/libsofthsm2.so'
const INSTALL =
  'install SoftHSM2 with apt-get install softhsm2 (Debian) or set COUNTERSIGN_TEST_PKCS11_LIB; pkcs11js builds with g++, make and python3 (npm rebuild pkcs11js)'
/** Loaded here too, for the checks that look at the token directly; the module under test loads its own. */
type Pkcs11js = typeof import('pkcs11js')
const pkcs11js: Pkcs11js | undefined = await import('pkcs11js').then(
  (module) => module.default,
  () => undefined,
)
const missing = !existsSync(LIBRARY)
  ? `no PKCS#11 library at ${LIBRARY}`
  : spawnSync('softhsm2-util', ['--version']).status !== 0
    ? 'softhsm2-util is not on the PATH'
    : pkcs11js === undefined
      ? 'the pkcs11js package is not installed or did not build'
      : undefined
const inCi = process.env.CI === 'true'

const skipReason = missing === undefined || inCi ? '' : ` (skipped: ${missing}; ${INSTALL})`
if (skipReason !== '') console.warn(`PKCS#11 provider tests${skipReason}; under CI=true they fail instead`)

describe.skipIf(skipReason !== '')(`openPkcs11Provider against SoftHSM2${skipReason}`, () => {
  const PIN = '246810'
  let dir = ''
  const token: Pkcs11Options = { library: LIBRARY, tokenLabel: 'cs-test', pin: PIN, keyLabel: 'kek-a' }
  const opened: { close(): unknown }[] = []

  const initToken = (label: string) =>
    execFileSync(
      'softhsm2-util',
      ['--init-token', '--free', '--label', label, '--so-pin', '13579135', '--pin', PIN],
      {
        stdio: 'pipe',
      },
    )

  beforeAll(async () => {
    if (missing !== undefined) throw new Error(`the PKCS#11 tests must run in CI: ${missing}; ${INSTALL}`)
    dir = mkdtempSync(join(tmpdir(), 'cs-seal-hsm-'))
    const conf = join(dir, 'softhsm2.conf')
    writeFileSync(conf, `directories.tokendir = ${dir}\nobjectstore.backend = file\nlog.level = ERROR\n`)
    process.env.SOFTHSM2_CONF = conf // read by C_Initialize and by softhsm2-util
    initToken('cs-test')
    initToken('cs-other')
    await createPkcs11Key(token)
    await createPkcs11Key({ ...token, keyLabel: 'kek-b' })
  })

  afterEach(async () => {
    for (const item of opened.splice(0).reverse()) await item.close()
  })

  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true })
    delete process.env.SOFTHSM2_CONF
  })

  async function provider(options: Partial<Pkcs11Options> = {}): Promise<KeyEncryptionProvider> {
    const opening = await openPkcs11Provider({ ...token, ...options })
    opened.push(opening)
    return opening
  }

  async function sealer(keyringPath: string, kek: KeyEncryptionProvider, create = false): Promise<Sealer> {
    const opening = await openSealer({ keyringPath, provider: kek, create })
    opened.push(opening)
    return opening
  }

  /** The library used directly, as another application would: initialised, used, finalized. */
  function withRawLibrary<T>(use: (raw: PKCS11, ck: Pkcs11js) => T): T {
    const ck = pkcs11js!
    const raw = new ck.PKCS11()
    raw.load(LIBRARY)
    raw.C_Initialize({ flags: ck.CKF_OS_LOCKING_OK })
    try {
      return use(raw, ck)
    } finally {
      raw.C_Finalize()
      raw.close()
    }
  }

  const ref = { table: 'key_shares', id: 'vault-1', version: 1 }
  const share = new TextEncoder().encode('a key share')

  it('round trip: records sealed under a token-wrapped keyring open after reopening it', async () => {
    const keyringPath = join(dir, 'round-trip.json')
    const record = (await sealer(keyringPath, await provider(), true)).seal(ref, share)
    expect((await sealer(keyringPath, await provider())).open(ref, record)).toEqual(share)
  })

  it('wraps with CKM_AES_KEY_WRAP_PAD and names the key by an RFC 7512 URI', async () => {
    const kek = (await provider()) as KeyEncryptionProvider & { mechanism: string }
    expect(kek.mechanism).toBe('CKM_AES_KEY_WRAP_PAD')
    expect(kek.keyId).toBe('pkcs11:token=cs-test;object=kek-a')
    const wrapped = await kek.wrap(new Uint8Array(32).fill(1))
    expect(wrapped[0]).toBe(1) // the mechanism tag
    expect(wrapped).toHaveLength(1 + 40)
    expect(await kek.unwrap(wrapped)).toEqual(new Uint8Array(32).fill(1))
  })

  it('fails at open with CS_SEAL_WRONG_KEK under another key of the same token', async () => {
    const keyringPath = join(dir, 'wrong-key.json')
    await sealer(keyringPath, await provider(), true)
    await expect(sealer(keyringPath, await provider({ keyLabel: 'kek-b' }))).rejects.toMatchObject({
      code: 'CS_SEAL_WRONG_KEK',
      message: expect.stringContaining('pkcs11:token=cs-test;object=kek-b'),
    })
  })

  it('refuses a wrong PIN with CS_SEAL_PKCS11_PIN, never repeating it', async () => {
    const error = await openPkcs11Provider({ ...token, pin: '999999' }).catch((caught: unknown) => caught)
    expect(error).toMatchObject({
      code: 'CS_SEAL_PKCS11_PIN',
      message: expect.stringContaining('CKR_PIN_INCORRECT'),
    })
    expect((error as Error).message).not.toContain('999999')
  })

  it('names the token labels it found when none matches', async () => {
    await expect(openPkcs11Provider({ ...token, tokenLabel: 'cs-missing' })).rejects.toMatchObject({
      code: 'CS_SEAL_PKCS11_TOKEN_NOT_FOUND',
      message: expect.stringMatching(/"cs-missing".*tokens found: .*"cs-test"/),
    })
    await expect(openPkcs11Provider({ ...token, tokenLabel: 'cs-missing' })).rejects.toMatchObject({
      message: expect.stringContaining('"cs-other"'),
    })
  })

  it('says how to create a missing key, naming the AES keys the token holds', async () => {
    await expect(openPkcs11Provider({ ...token, keyLabel: 'kek-missing' })).rejects.toMatchObject({
      code: 'CS_SEAL_PKCS11_KEY_NOT_FOUND',
      message: expect.stringMatching(
        /no AES key labelled "kek-missing" \(AES keys found: .*"kek-a".*createPkcs11Key/,
      ),
    })
  })

  it('refuses to create a key under a label an AES key already has', async () => {
    await expect(createPkcs11Key(token)).rejects.toMatchObject({ code: 'CS_SEAL_PKCS11_KEY_EXISTS' })
  })

  it('shares one C_Initialize between providers open at once, and finalizes when the last closes', async () => {
    const first = await openPkcs11Provider(token)
    const second = await openPkcs11Provider({ ...token, keyLabel: 'kek-b' })
    opened.push(first, second) // closed again after the test if it fails half-way: close() is idempotent
    await first.close()
    const dataKey = new Uint8Array(32).fill(2)
    expect(await second.unwrap(await second.wrap(dataKey))).toEqual(dataKey)
    await second.close()
    await expect(first.wrap(dataKey)).rejects.toMatchObject({ code: 'CS_SEAL_CLOSED' })
    // Finalized: a fresh initialisation succeeds rather than answering CKR_CRYPTOKI_ALREADY_INITIALIZED.
    expect(withRawLibrary(() => 'initialised')).toBe('initialised')
  })

  it('creates a key that never leaves the token: stored, sensitive, not extractable, wrap and unwrap only', () => {
    const attributes = [
      'CKA_TOKEN',
      'CKA_SENSITIVE',
      'CKA_EXTRACTABLE',
      'CKA_NEVER_EXTRACTABLE',
      'CKA_WRAP',
      'CKA_UNWRAP',
      'CKA_ENCRYPT',
      'CKA_DECRYPT',
    ] as const
    withRawLibrary((raw, ck) => {
      const slot = raw
        .C_GetSlotList(true)
        .find((candidate) => raw.C_GetTokenInfo(candidate).label.trim() === 'cs-test')!
      const session = raw.C_OpenSession(slot, ck.CKF_SERIAL_SESSION)
      raw.C_Login(session, ck.CKU_USER, PIN)
      raw.C_FindObjectsInit(session, [{ type: ck.CKA_LABEL, value: 'kek-a' }])
      const [key] = raw.C_FindObjects(session, 2)
      raw.C_FindObjectsFinal(session)
      const values = raw.C_GetAttributeValue(
        session,
        key!,
        attributes.map((name) => ({ type: ck[name] })),
      )
      expect(
        Object.fromEntries(attributes.map((name, index) => [name, values[index]!.value[0] === 1])),
      ).toEqual({
        CKA_TOKEN: true,
        CKA_SENSITIVE: true,
        CKA_EXTRACTABLE: false,
        CKA_NEVER_EXTRACTABLE: true,
        CKA_WRAP: true,
        CKA_UNWRAP: true,
        CKA_ENCRYPT: false,
        CKA_DECRYPT: false,
      })
      const [length] = raw.C_GetAttributeValue(session, key!, [{ type: ck.CKA_VALUE_LEN }])
      expect(length!.value.readUInt32LE(0)).toBe(32) // a CK_ULONG, little-endian on the machines CI runs
      expect(() => raw.C_GetAttributeValue(session, key!, [{ type: ck.CKA_VALUE }])).toThrow(
        /CKR_ATTRIBUTE_SENSITIVE/,
      )
      raw.C_CloseSession(session)
    })
  })

  it('fails with CS_SEAL_PKCS11_UNAVAILABLE, naming the path, when the module library is missing', async () => {
    await expect(
      openPkcs11Provider({ ...token, library: join(dir, 'no-such-module.so') }),
    ).rejects.toMatchObject({
      code: 'CS_SEAL_PKCS11_UNAVAILABLE',
      message: expect.stringContaining('no-such-module.so'),
    })
  })
})
