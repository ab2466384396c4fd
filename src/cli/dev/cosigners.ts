import { existsSync } from 'node:fs'
import { join } from 'node:path'
import {
  cosignerPublicKey,
  createCosignerFolder,
  openCosignerFolder,
  pairCosigner,
  readPairings,
  setCallback,
  type CosignerFolder,
} from '../../cosigner/index.js'

/** A development co-signer's folder, sealed under a file KEK kept beside it. */
export interface CosignerPaths {
  readonly dir: string
  readonly kek: string
}

/** Runs `work` on the folder (created when `create` and absent), closed afterwards whatever happens. */
async function withFolder<T>(
  paths: CosignerPaths,
  create: boolean,
  work: (folder: CosignerFolder) => Promise<T>,
): Promise<T> {
  const folder =
    create && !existsSync(join(paths.dir, 'cosigner.json'))
      ? await createCosignerFolder(paths.dir, { kind: 'file', path: paths.kek }, {})
      : await openCosignerFolder(paths.dir, {})
  try {
    return await work(folder)
  } finally {
    await folder.close()
  }
}

/**
 * The co-signer of one API user, created and paired the first time (a pairing token is asked for only
 * then: each works once), reused after. Answers the public key its callback handler verifies requests with.
 */
export async function ensurePairedCosigner(
  paths: CosignerPaths,
  pairing: {
    readonly hubUrl: string
    readonly apiUserId: string
    readonly name: string
    readonly token: () => Promise<string>
  },
): Promise<string> {
  return withFolder(paths, true, async (folder) => {
    const paired = (await readPairings(folder)).some((known) => known.party.name === pairing.apiUserId)
    if (!paired)
      await pairCosigner(folder, {
        hubUrl: pairing.hubUrl,
        pairingToken: await pairing.token(),
        name: pairing.name,
      })
    return cosignerPublicKey(folder)
  })
}

/** Points the API user's co-signer at its callback handler (public-key mode); unchanged settings are kept. */
export async function pointAtHandler(
  paths: CosignerPaths,
  apiUserId: string,
  handler: { readonly url: string; readonly publicKey: string },
): Promise<void> {
  await withFolder(paths, false, async (folder) => {
    const current = (await readPairings(folder)).find((known) => known.party.name === apiUserId)?.callback
    if (current?.url === handler.url && current.publicKey === handler.publicKey) return
    await setCallback(folder, apiUserId, handler)
  })
}
