import { existsSync } from 'node:fs'
import { chmod, copyFile, mkdir, readdir, rm } from 'node:fs/promises'
import { createPublicKey } from 'node:crypto'
import { CallbackSettingSchema, type CallbackSetting } from './callback-target.js'
import { NotPaired } from './errors.js'
import { folderPaths, openCosignerFolder, readSettings, type CosignerFolder, type Unlock } from './folder.js'
import { callbackKey } from './pairing.js'

/** One paired API user as `countersign cosigner api-users` lists it: nothing secret. */
export interface ApiUserView {
  readonly apiUserId: string
  readonly name: string | null
  readonly hubUrl: string
  readonly cosignerId: string
  readonly callback: { readonly url: string; readonly mode: 'jwt' | 'certificate' } | 'from the hub'
  readonly pairedAt: string
}

export async function listApiUsers(folder: CosignerFolder): Promise<ApiUserView[]> {
  return (await folder.store.pairings()).map((pairing) => {
    const setting = pairing.callback === null ? undefined : CallbackSettingSchema.parse(pairing.callback)
    return {
      apiUserId: pairing.party,
      name: pairing.name,
      hubUrl: pairing.hubUrl,
      cosignerId: pairing.cosignerId,
      callback:
        setting === undefined
          ? 'from the hub'
          : { url: setting.url, mode: setting.publicKey === undefined ? 'certificate' : 'jwt' },
      pairedAt: new Date(pairing.pairedAt).toISOString(),
    }
  })
}

export interface CosignerStatus {
  readonly kek: string
  readonly apiUsers: number
  readonly pendingApprovals: number
  readonly audit: { readonly ok: boolean; readonly entries?: number; readonly brokenSeq?: number }
}

export async function cosignerStatus(folder: CosignerFolder): Promise<CosignerStatus> {
  const pairings = await folder.store.pairings()
  const pending = await Promise.all(pairings.map((pairing) => folder.store.pendingApprovals(pairing.party)))
  const audit = await folder.store.verifyAudit()
  return {
    kek: folder.kek.kind,
    apiUsers: pairings.length,
    pendingApprovals: pending.flat().length,
    audit: audit.ok ? { ok: true, entries: audit.entries } : { ok: false, brokenSeq: audit.brokenSeq },
  }
}

export async function renameApiUser(folder: CosignerFolder, apiUserId: string, name: string): Promise<void> {
  if (!(await folder.store.renamePairing(apiUserId, name)))
    throw new NotPaired(`this co-signer holds no pairing with API user ${apiUserId}`)
}

/**
 * Forgets an API user: its pairing, party key, refresh token, key shares and pre-signatures. The hub's side
 * (revoking the refresh token) is the Admin's `DELETE /v1/cosigners/{id}/api_keys/{apiKeyId}`.
 */
export async function unpairApiUser(folder: CosignerFolder, apiUserId: string): Promise<void> {
  if (!(await folder.store.removePairing(apiUserId)))
    throw new NotPaired(`this co-signer holds no pairing with API user ${apiUserId}`)
  await folder.store.audit('cosigner-unpaired', null, { party: apiUserId })
}

/** Sets (or with null clears, falling back to the hub's) an API user's callback handler. */
export async function setCallback(
  folder: CosignerFolder,
  apiUserId: string,
  setting: CallbackSetting | null,
): Promise<void> {
  const checked = setting === null ? null : CallbackSettingSchema.parse(setting)
  if (!(await folder.store.setCallback(apiUserId, checked)))
    throw new NotPaired(`this co-signer holds no pairing with API user ${apiUserId}`)
  await folder.store.audit('cosigner-callback-set', null, {
    party: apiUserId,
    url: checked?.url ?? null,
    mode: checked === null ? null : checked.publicKey === undefined ? 'certificate' : 'jwt',
  })
}

/** The co-signer's callback JWT public key (SPKI PEM): what each callback handler is configured with. */
export async function cosignerPublicKey(folder: CosignerFolder): Promise<string> {
  return createPublicKey(await callbackKey(folder))
    .export({ type: 'spki', format: 'pem' })
    .toString()
}

/**
 * A backup: the database copied consistently, the keyring and the settings. Every secret in it is sealed
 * and the data key wrapped: it is restored only where its KEK is (the KEK file, the passphrase, the token),
 * which a backup never contains.
 */
export async function backupCosigner(folder: CosignerFolder, target: string): Promise<void> {
  if (existsSync(target) && (await readdir(target)).length > 0)
    throw new Error(`${target} is not empty: back up into a new folder`)
  await mkdir(target, { recursive: true, mode: 0o700 })
  const from = folderPaths(folder.dir)
  const to = folderPaths(target)
  await folder.store.backupTo(to.database)
  await chmod(to.database, 0o600)
  await copyFile(from.keyring, to.keyring)
  await copyFile(from.settings, to.settings)
}

/** Restores a backup into a new folder, and proves it opens with the KEK and its audit chain holds. */
export async function restoreCosigner(
  backup: string,
  target: string,
  unlock: Unlock,
): Promise<CosignerStatus> {
  await readSettings(backup)
  if (existsSync(folderPaths(target).settings)) throw new Error(`${target} is already a co-signer folder`)
  await mkdir(target, { recursive: true, mode: 0o700 })
  const from = folderPaths(backup)
  const to = folderPaths(target)
  for (const [source, destination] of [
    [from.database, to.database],
    [from.keyring, to.keyring],
    [from.settings, to.settings],
  ] as const)
    await copyFile(source, destination)
  let folder: CosignerFolder
  try {
    folder = await openCosignerFolder(target, unlock)
  } catch (error) {
    await rm(target, { recursive: true, force: true })
    throw error
  }
  try {
    await cosignerPublicKey(folder)
    return await cosignerStatus(folder)
  } finally {
    await folder.close()
  }
}
