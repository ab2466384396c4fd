import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import {
  backupCosigner,
  createCosignerFolder,
  openCosignerFolder,
  restoreCosigner,
  type CosignerFolder,
} from './index.js'

const root = mkdtempSync(join(tmpdir(), 'cs-cosigner-folder-'))
let open: CosignerFolder[] = []
afterEach(async () => {
  for (const folder of open) await folder.close()
  open = []
})
process.on('exit', () => rmSync(root, { recursive: true, force: true }))

async function folderWithSecrets(name: string) {
  const dir = join(root, name)
  const folder = await createCosignerFolder(dir, { kind: 'file', path: `${dir}.kek` }, {})
  open.push(folder)
  const refreshToken = randomBytes(32).toString('base64url')
  await folder.secrets.put('refresh-token', 'alice/refresh', new Uint8Array(Buffer.from(refreshToken)))
  await folder.secrets.put('key-share', 'alice/MPC_ECDSA_SECP256K1/alice', new Uint8Array(randomBytes(64)))
  return { dir, folder, refreshToken }
}

/** Every byte the folder (or backup) holds on disk, WAL included. */
const bytesOf = (dir: string) => Buffer.concat(readdirSync(dir).map((file) => readFileSync(join(dir, file))))

describe('the co-signer folder', () => {
  it('keeps every file 0600 and no secret in clear, base64 or hex, WAL included', async () => {
    const { dir, refreshToken } = await folderWithSecrets('clear')
    const kek = readFileSync(`${dir}.kek`)
    const disk = bytesOf(dir)
    for (const needle of [
      refreshToken,
      Buffer.from(refreshToken).toString('base64'),
      kek.toString('base64'),
      kek.toString('hex'),
    ])
      expect(disk.includes(needle), needle).toBe(false)
    expect(disk.includes(kek)).toBe(false)
    for (const file of readdirSync(dir)) expect(statSync(join(dir, file)).mode & 0o077, file).toBe(0)
  })

  it('refuses a sealed record moved into another row, or with a flipped byte, naming the record', async () => {
    const { dir, folder } = await folderWithSecrets('tamper')
    await folder.secrets.put('refresh-token', 'bob/refresh', new Uint8Array(Buffer.from('bobs-token')))
    const db = new Database(join(dir, 'cosigner.db'))
    const sealedOf = (id: string) =>
      (db.prepare(`SELECT sealed_b64 FROM cosigner_secrets WHERE id = ?`).get(id) as { sealed_b64: string })
        .sealed_b64
    db.prepare(`UPDATE cosigner_secrets SET sealed_b64 = ? WHERE id = 'bob/refresh'`).run(
      sealedOf('alice/refresh'),
    )
    await expect(folder.secrets.get('refresh-token', 'bob/refresh')).rejects.toMatchObject({
      code: 'CS_SEAL_TAMPERED',
      message: expect.stringContaining('bob/refresh') as string,
    })
    const flipped = Buffer.from(sealedOf('alice/MPC_ECDSA_SECP256K1/alice'), 'base64')
    flipped[flipped.length - 20]! ^= 0x01
    db.prepare(`UPDATE cosigner_secrets SET sealed_b64 = ? WHERE id = 'alice/MPC_ECDSA_SECP256K1/alice'`).run(
      flipped.toString('base64'),
    )
    db.close()
    await expect(folder.secrets.get('key-share', 'alice/MPC_ECDSA_SECP256K1/alice')).rejects.toMatchObject({
      code: 'CS_SEAL_TAMPERED',
    })
  })

  it('backs up and restores with its KEK; the backup holds no secret and is useless under another KEK', async () => {
    const { dir, folder, refreshToken } = await folderWithSecrets('backed-up')
    const backup = join(root, 'backup')
    await backupCosigner(folder, backup)
    expect(bytesOf(backup).includes(refreshToken)).toBe(false)
    expect(readdirSync(backup).sort()).toEqual(['cosigner.db', 'cosigner.json', 'keyring.json'])

    const restored = join(root, 'restored')
    expect(await restoreCosigner(backup, restored, {})).toMatchObject({ kek: 'file', audit: { ok: true } })
    const reopened = await openCosignerFolder(restored, {})
    open.push(reopened)
    expect(Buffer.from((await reopened.secrets.get('refresh-token', 'alice/refresh'))!).toString()).toBe(
      refreshToken,
    )

    // The same backup where the KEK is another: refused, and nothing left behind.
    const elsewhere = join(root, 'elsewhere-backup')
    await backupCosigner(folder, elsewhere)
    const otherKek = join(root, 'other.kek')
    writeFileSync(otherKek, randomBytes(32), { mode: 0o600 })
    const settings = JSON.parse(readFileSync(join(elsewhere, 'cosigner.json'), 'utf8')) as { kek: object }
    writeFileSync(
      join(elsewhere, 'cosigner.json'),
      JSON.stringify({ ...settings, kek: { kind: 'file', path: otherKek } }),
    )
    const target = join(root, 'restored-wrong')
    await expect(restoreCosigner(elsewhere, target, {})).rejects.toMatchObject({ code: 'CS_SEAL_WRONG_KEK' })
    expect(() => statSync(target)).toThrow()
    // And the folder copied without its KEK file at all.
    rmSync(`${dir}.kek`)
    await expect(openCosignerFolder(dir, {})).rejects.toThrow(/KEK|kek/)
  })

  it('asks for the passphrase of a passphrase KEK, and refuses a wrong one', async () => {
    const dir = join(root, 'passphrase')
    const folder = await createCosignerFolder(dir, { kind: 'passphrase' }, { passphrase: 'correct horse' })
    await folder.close()
    await expect(openCosignerFolder(dir, {})).rejects.toMatchObject({ code: 'CS_COSIGNER_LOCKED' })
    await expect(openCosignerFolder(dir, { passphrase: 'wrong horse' })).rejects.toMatchObject({
      code: 'CS_SEAL_WRONG_KEK',
    })
    const reopened = await openCosignerFolder(dir, { passphrase: 'correct horse' })
    open.push(reopened)
    expect(reopened.kek).toEqual({ kind: 'passphrase' })
  })
})
