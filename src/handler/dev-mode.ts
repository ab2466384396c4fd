import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CALLBACK_KEY_BITS, generateRsaKeyPair, writePrivateKeyFile, writePublicFile } from '../keys/index.js'

/**
 * Development mode: everything a handler needs, created under one folder on first start and reused after.
 * A co-signer key pair (its private half lets `countersign simulate` play the co-signer), a handler key
 * pair, the starter policy, a SQLite database and a configuration file that shows the production format.
 */
export const DEV_SIGNER_ID = 'dev-api-user'
export const STARTER_POLICY = fileURLToPath(new URL('../../examples/policies/starter.yaml', import.meta.url))
const POLICY_SCHEMA = fileURLToPath(new URL('../../schemas/policy.schema.json', import.meta.url))

/** What `countersign dev` adds to the development handler: its own policy, co-signers and API users. */
export interface DevelopmentOptions {
  /** The policy copied into the folder at first start; the starter policy when left out. */
  readonly policySource?: string
  /** More co-signers it trusts, each by its public key file (beside the simulator's key pair). */
  readonly cosigners?: readonly { readonly name: string; readonly publicKey: string }[]
  /** More API users it answers for (signerId: the API user's API key), with the same handler key. */
  readonly apiUsers?: readonly { readonly signerId: string; readonly name: string }[]
}

export interface DevelopmentSetup {
  readonly dir: string
  readonly configPath: string
  readonly signerId: string
  readonly cosignerKey: string
  readonly cosignerPublicKey: string
  readonly handlerKey: string
  readonly handlerPublicKey: string
  readonly policyPath: string
}

async function ensureKeyPair(privatePath: string, publicPath: string): Promise<void> {
  if (existsSync(privatePath) && existsSync(publicPath)) return
  const pair = await generateRsaKeyPair(CALLBACK_KEY_BITS)
  await writePrivateKeyFile(privatePath, pair.privateKeyPem, { force: true })
  await writePublicFile(publicPath, pair.publicKeyPem, { force: true })
}

/**
 * The development admin listener: 127.0.0.1:9090, or a free port when the handler itself asked for one
 * (port 0), so that several development handlers (and tests) can run side by side.
 */
export function devAdminListen(listen: string): string {
  return /:0$/.test(listen) ? '127.0.0.1:0' : '127.0.0.1:9090'
}

/**
 * The approvals console on the admin listener, at http://localhost:PORT (passkeys need a host name, and
 * loopback is a secure context); none on a port chosen at start (0), whose origin is not known yet.
 */
function consoleSection(adminListen: string): string {
  const port = adminListen.slice(adminListen.lastIndexOf(':') + 1)
  if (port === '0') return ''
  return `\n# The approvals console (docs/console.md).\nconsole:\n  origin: http://localhost:${port}`
}

function devConfig(root: string, listen: string, adminListen: string, options: DevelopmentOptions): string {
  // JSON strings are YAML strings: names and paths need no escaping rules of their own.
  const cosigners = (options.cosigners ?? []).map(
    (cosigner) =>
      `\n  - name: ${JSON.stringify(cosigner.name)}\n    publicKey: ${JSON.stringify(relative(root, cosigner.publicKey))}`,
  )
  const apiUsers = (options.apiUsers ?? []).map(
    (user) =>
      `\n  - signerId: ${JSON.stringify(user.signerId)}\n    name: ${JSON.stringify(user.name)}\n    authMode: jwt\n    handlerKey: keys/handler.key`,
  )
  return `# Countersign handler configuration for DEVELOPMENT MODE, written by \`countersign handler start\` (or \`countersign dev\`).
# Paths are relative to this file. See docs/handler.md for every key; production needs TLS and your own keys.
listen: ${listen}
# Probes (/healthz, /readyz) and Prometheus metrics (/metrics), plain HTTP, apart from the co-signer's port.
admin:
  listen: ${adminListen}${consoleSection(adminListen)}
basePath: ''
cosigners:
  - name: dev-cosigner
    publicKey: keys/cosigner.pub${cosigners.join('')}
apiUsers:
  - signerId: ${DEV_SIGNER_ID}
    name: development API user
    authMode: jwt
    handlerKey: keys/handler.key
    default: true${apiUsers.join('')}
policy: policy.yaml
store: sqlite:countersign.db
`
}

/**
 * A policy of the examples as the development folder holds it: its `$schema` comment is relative to the
 * examples folder, so it is pointed at the package's schema from where the copy lives (editors then
 * complete and check the copy too).
 */
async function policyCopyFor(source: string, policyPath: string): Promise<string> {
  const schema = relative(dirname(policyPath), POLICY_SCHEMA).split('\\').join('/')
  return (await readFile(source, 'utf8')).replace(/\$schema=\S+/, () => `$schema=${schema}`)
}

export async function prepareDevelopmentMode(
  dir: string,
  listen = '127.0.0.1:8080',
  adminListen = devAdminListen(listen),
  options: DevelopmentOptions = {},
): Promise<DevelopmentSetup> {
  const root = resolve(dir)
  const keys = join(root, 'keys')
  await mkdir(keys, { recursive: true, mode: 0o700 })
  const setup: DevelopmentSetup = {
    dir: root,
    configPath: join(root, 'countersign.yaml'),
    signerId: DEV_SIGNER_ID,
    cosignerKey: join(keys, 'cosigner.key'),
    cosignerPublicKey: join(keys, 'cosigner.pub'),
    handlerKey: join(keys, 'handler.key'),
    handlerPublicKey: join(keys, 'handler.pub'),
    policyPath: join(root, 'policy.yaml'),
  }
  await Promise.all([
    ensureKeyPair(setup.cosignerKey, setup.cosignerPublicKey),
    ensureKeyPair(setup.handlerKey, setup.handlerPublicKey),
  ])
  if (!existsSync(setup.policyPath))
    await writeFile(
      setup.policyPath,
      await policyCopyFor(options.policySource ?? STARTER_POLICY, setup.policyPath),
    )
  // Rewritten on every start so the listen address matches what was asked; keys and policy are kept.
  await writeFile(setup.configPath, devConfig(root, listen, adminListen, options))
  return setup
}
