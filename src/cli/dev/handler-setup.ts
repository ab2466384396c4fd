import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { prepareDevelopmentMode, type DevelopmentSetup } from '../../handler/index.js'
import { writePublicFile } from '../../keys/index.js'

/** `examples/policies/dev.yaml`: RAW signatures and small transfers approved, so the demo runs end to end. */
const DEV_POLICY = fileURLToPath(new URL('../../../examples/policies/dev.yaml', import.meta.url))

/**
 * The callback handler's development folder (as `countersign handler start` makes it without --config:
 * keys, a policy, a SQLite store), set to trust the first co-signer's key and to answer for its API user,
 * beside the simulator's co-signer key and API user, so `countersign simulate` still works against it.
 */
export async function prepareDevHandler(
  dir: string,
  listen: { readonly api: string; readonly admin: string },
  trust: {
    readonly cosigner: { readonly name: string; readonly publicKeyPem: string }
    readonly apiUser: { readonly id: string; readonly name: string }
  },
): Promise<DevelopmentSetup> {
  const cosignerKey = join(dir, 'keys', `${trust.cosigner.name}.pub`)
  const setup = await prepareDevelopmentMode(dir, listen.api, listen.admin, {
    policySource: DEV_POLICY,
    cosigners: [{ name: trust.cosigner.name, publicKey: cosignerKey }],
    apiUsers: [{ signerId: trust.apiUser.id, name: trust.apiUser.name }],
  })
  await writePublicFile(cosignerKey, trust.cosigner.publicKeyPem, { force: true })
  return setup
}
