import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { mkdir, readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { systemClock, type Clock } from '../core/index.js'
import { createCsr, generateRsaKeyPair, writePrivateKeyFile, writePublicFile } from '../keys/index.js'
import { resolveStoreUrl } from '../service/index.js'
import { HubLinkStore, type StorageDatabase } from '../storage/index.js'
import { hubAudit, openHubStore } from './hub.js'
import { CLOUD_PARTIES, LinkHub, type CloudParty } from './link/index.js'
import { createPolicyGovernance } from './policy/index.js'
import { registerApiUser } from './rest/api-users.js'

/**
 * `countersign hub init`: a new workspace in one folder — the hub's keys and configuration, its Owner (an
 * API user from a CSR given or generated), a starter policy published by that Owner, and the two cloud
 * co-signers' identities and configurations (each in its own folder, to be moved to its own machine).
 */
export interface InitOptions {
  readonly dir: string
  /** The Owner's CSR (PEM file); without it a key and CSR are generated into `dir`. */
  readonly ownerCsr?: string
  readonly ownerName?: string
  /** The address the hub will listen on; the cloud co-signers' configurations point at it. */
  readonly listen?: string
  /** The hub's store as hub.yaml names it: SQLite beside hub.yaml by default, a PostgreSQL URL for replicas. */
  readonly store?: string
  readonly clock?: Clock
}

export interface InitResult {
  readonly configPath: string
  readonly ownerApiKey: string
  /** Where the Owner's generated private key is, when one was generated. */
  readonly ownerKeyPath: string | undefined
  readonly cloudConfigs: Readonly<Record<CloudParty, string>>
}

export const STARTER_POLICY = `# The workspace's transaction policy (docs/hub-policy.md). First match wins; nothing matched → BLOCK.
# Changing it takes the Owner's approval and an Admin quorum's (PUT /v1/tap/draft, then approvals).
version: 1
rules:
  - id: raw-signing
    match: { operation: [RAW] }
    action: ALLOW
    reason: RAW signing is allowed to every initiator
  - id: transfers
    match: { operation: [TRANSFER] }
    action: ALLOW
    reason: transfers are allowed to every initiator
`

const DEFAULT_STORE = 'sqlite:./hub.db'

function hubYaml(listen: string, store: string, workspaceId: string): string {
  // A JSON string is a YAML string: a PostgreSQL URL's query (e.g. `options=-c search_path=…`) stays intact.
  return `# The workspace hub (docs/hub.md). Paths are relative to this file.
listen: ${listen}
store: ${store === DEFAULT_STORE ? store : JSON.stringify(store)}
workspaceId: ${workspaceId}
serviceKey: ./keys/hub-service.key
webhooks:
  signingKey: ./keys/webhook-signing.key
  endpoints: []
assets:
  ETH_TEST6: { usdPrice: 2000 }
  BTC_TEST: { usdPrice: 60000 }
  SOL_TEST: { usdPrice: 150 }
`
}

function cloudYaml(party: CloudParty, hubUrl: string): string {
  return `# Cloud co-signer ${party} (docs/cosigner-protocol.md). Paths are relative to this file.
hub: ${hubUrl}
party: ${party}
refreshTokenFile: ./refresh-token
hubKey: ./hub-service.jwk
partyKey: ./party.key
keyShares: ./shares
store: sqlite:./cloud.db
`
}

async function ownerCsr(options: InitOptions): Promise<{ csrPem: string; keyPath: string | undefined }> {
  if (options.ownerCsr !== undefined)
    return { csrPem: await readFile(options.ownerCsr, 'utf8'), keyPath: undefined }
  const pair = await generateRsaKeyPair()
  const keyPath = join(options.dir, 'owner.key')
  await writePrivateKeyFile(keyPath, pair.privateKeyPem)
  const csrPem = createCsr(pair.privateKey, [{ type: 'CN', value: options.ownerName ?? 'workspace owner' }])
  await writePublicFile(join(options.dir, 'owner.csr'), csrPem)
  return { csrPem, keyPath }
}

async function createCloud(
  party: CloudParty,
  dir: string,
  hubUrl: string,
  link: LinkHub,
  hubJwk: string,
): Promise<string> {
  const folder = join(dir, party)
  await mkdir(folder, { recursive: true, mode: 0o700 })
  const { privateKey, publicKey } = generateKeyPairSync('x25519')
  await writePrivateKeyFile(
    join(folder, 'party.key'),
    privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  )
  const refreshToken = await link.registerCloud(party, publicKey.export({ format: 'jwk' }).x ?? '')
  await writePrivateKeyFile(join(folder, 'refresh-token'), `${refreshToken}\n`)
  await writePublicFile(join(folder, 'hub-service.jwk'), hubJwk)
  const configPath = join(folder, 'cloud.yaml')
  await writePublicFile(configPath, cloudYaml(party, hubUrl))
  return configPath
}

async function bootstrapWorkspace(
  db: StorageDatabase,
  options: InitOptions,
  clock: Clock,
): Promise<{ ownerApiKey: string; ownerKeyPath: string | undefined }> {
  const csr = await ownerCsr(options)
  const owner = await registerApiUser(
    db,
    { name: options.ownerName ?? 'workspace owner', role: 'OWNER', csrPem: csr.csrPem },
    clock.now(),
    { allowOwner: true },
  )
  const audit = hubAudit(clock)
  const governance = createPolicyGovernance({
    database: db,
    clock,
    audit: (event, body, session) => audit(session, event, body),
  })
  const published = await governance.bootstrap(STARTER_POLICY, {
    id: owner.id,
    name: owner.name,
    role: 'OWNER',
  })
  if (!published.ok) throw new Error('the starter policy does not compile')
  return { ownerApiKey: owner.id, ownerKeyPath: csr.keyPath }
}

export async function initWorkspace(options: InitOptions): Promise<InitResult> {
  const clock = options.clock ?? systemClock
  const dir = resolve(options.dir)
  const listen = options.listen ?? '127.0.0.1:8443'
  await mkdir(join(dir, 'keys'), { recursive: true, mode: 0o700 })
  const serviceKey = generateKeyPairSync('ed25519')
  await writePrivateKeyFile(
    join(dir, 'keys', 'hub-service.key'),
    serviceKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  )
  const hubJwk = `${JSON.stringify(serviceKey.publicKey.export({ format: 'jwk' }))}\n`
  await writePublicFile(join(dir, 'keys', 'hub-service.jwk'), hubJwk)
  const webhookKey = await generateRsaKeyPair(3072)
  await writePrivateKeyFile(join(dir, 'keys', 'webhook-signing.key'), webhookKey.privateKeyPem)
  const store = options.store ?? DEFAULT_STORE
  const configPath = join(dir, 'hub.yaml')
  await writePublicFile(configPath, hubYaml(listen, store, randomUUID()))

  const db = await openHubStore(resolveStoreUrl(store, dir), clock)
  try {
    const owner = await bootstrapWorkspace(db, { ...options, dir }, clock)
    const link = new LinkHub({ store: new HubLinkStore(db, clock), serviceKey: serviceKey.privateKey, clock })
    const hubUrl = `http://${listen}`
    const cloudConfigs = Object.fromEntries(
      await Promise.all(
        CLOUD_PARTIES.map(
          async (party) => [party, await createCloud(party, dir, hubUrl, link, hubJwk)] as const,
        ),
      ),
    ) as Record<CloudParty, string>
    return { configPath, ...owner, cloudConfigs }
  } finally {
    await db.close()
  }
}
