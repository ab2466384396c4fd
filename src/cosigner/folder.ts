import { existsSync } from 'node:fs'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import { writePrivateKeyFile } from '../keys/index.js'
import {
  openFileProvider,
  openPassphraseProvider,
  openPkcs11Provider,
  openSealer,
  type KeyEncryptionProvider,
  type Sealer,
} from '../seal/index.js'
import { openCosignerStore, type CosignerStore } from '../storage/index.js'
import { CosignerLocked, NotInitialized } from './errors.js'
import { CosignerSecrets } from './secrets.js'

/**
 * A co-signer's folder: `cosigner.json` (which key-encryption key seals it; no secret), `keyring.json` (the
 * data key, wrapped by that KEK), `cosigner.db` (pairings, approvals, RETRY series, audit, and the sealed
 * secrets). Copied without its KEK — the KEK file kept elsewhere, the passphrase, the HSM — it is useless.
 */
export const KekSettingsSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('file'), path: z.string().min(1) }),
  z.strictObject({ kind: z.literal('passphrase') }),
  z.strictObject({
    kind: z.literal('pkcs11'),
    library: z.string().min(1),
    tokenLabel: z.string().min(1),
    keyLabel: z.string().min(1),
  }),
])
export type KekSettings = z.infer<typeof KekSettingsSchema>

const SettingsSchema = z.strictObject({ version: z.literal(1), kek: KekSettingsSchema })

/** The secret that unlocks a passphrase or PKCS#11 KEK, read by the CLI from the environment or a file. */
export interface Unlock {
  readonly passphrase?: string
  readonly pin?: string
}

export interface CosignerFolder {
  readonly dir: string
  readonly kek: KekSettings
  readonly store: CosignerStore
  readonly secrets: CosignerSecrets
  close(): Promise<void>
}

export const folderPaths = (dir: string) => ({
  settings: join(dir, 'cosigner.json'),
  keyring: join(dir, 'keyring.json'),
  database: join(dir, 'cosigner.db'),
  storeUrl: `sqlite:${join(dir, 'cosigner.db')}`,
})

/** Creates the folder, its keyring under `kek` and its database; refuses a folder that already has one. */
export async function createCosignerFolder(
  dir: string,
  kek: KekSettings,
  unlock: Unlock,
): Promise<CosignerFolder> {
  const paths = folderPaths(dir)
  if (existsSync(paths.settings)) throw new Error(`${dir} is already a co-signer folder (${paths.settings})`)
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const sealer = await sealerOf(paths.keyring, await providerOf(kek, unlock, true), true)
  await writePrivateKeyFile(paths.settings, `${JSON.stringify({ version: 1, kek }, null, 2)}\n`, {
    force: true,
  })
  return assemble(dir, kek, sealer)
}

/** Opens a folder made by `createCosignerFolder`: the KEK is asked once, to unwrap the data key. */
export async function openCosignerFolder(dir: string, unlock: Unlock): Promise<CosignerFolder> {
  const kek = await readSettings(dir)
  const sealer = await sealerOf(folderPaths(dir).keyring, await providerOf(kek, unlock, false), false)
  return assemble(dir, kek, sealer)
}

/** Creates `path` empty with mode 0600 when absent, and takes group and others' access away when present. */
export async function ownerOnly(path: string): Promise<void> {
  await writeFile(path, '', { mode: 0o600, flag: 'a' })
  await chmod(path, 0o600)
}

export async function readSettings(dir: string): Promise<KekSettings> {
  const path = folderPaths(dir).settings
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (cause) {
    throw new NotInitialized(`${dir} is not a co-signer folder (no ${path})`, { cause })
  }
  const parsed = SettingsSchema.safeParse(JSON.parse(text))
  if (!parsed.success) throw new NotInitialized(`${path} is not a co-signer folder's settings`)
  return parsed.data.kek
}

async function assemble(dir: string, kek: KekSettings, sealer: Sealer): Promise<CosignerFolder> {
  let store: CosignerStore
  try {
    // SQLite creates its file (and later its WAL) with the process umask: made 0600 here first.
    await ownerOnly(folderPaths(dir).database)
    store = await openCosignerStore(folderPaths(dir).storeUrl)
  } catch (error) {
    sealer.close()
    throw error
  }
  return {
    dir,
    kek,
    store,
    secrets: new CosignerSecrets(store, sealer),
    close: async () => {
      sealer.close()
      await store.close()
    },
  }
}

/** The provider is asked once, to wrap or unwrap the data key, then closed. */
async function sealerOf(
  keyringPath: string,
  provider: KeyEncryptionProvider,
  create: boolean,
): Promise<Sealer> {
  try {
    return await openSealer({ keyringPath, provider, create })
  } finally {
    await provider.close()
  }
}

/** A new folder's file KEK is created unless the operator pointed at one that exists. */
async function providerOf(kek: KekSettings, unlock: Unlock, create: boolean): Promise<KeyEncryptionProvider> {
  switch (kek.kind) {
    case 'file':
      return openFileProvider({ path: kek.path, create: create && !existsSync(kek.path) })
    case 'passphrase':
      if (unlock.passphrase === undefined)
        throw new CosignerLocked('this co-signer is sealed under a passphrase and none was given')
      return openPassphraseProvider({ passphrase: unlock.passphrase })
    case 'pkcs11':
      if (unlock.pin === undefined)
        throw new CosignerLocked(
          `this co-signer is sealed under PKCS#11 token "${kek.tokenLabel}" and no PIN was given`,
        )
      return openPkcs11Provider({
        library: kek.library,
        tokenLabel: kek.tokenLabel,
        keyLabel: kek.keyLabel,
        pin: unlock.pin,
      })
  }
}
