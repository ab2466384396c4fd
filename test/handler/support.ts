/**
 * Starts the real handler (in-process, real HTTP on a free port) for end-to-end tests, with its own keys,
 * policy and store, and sends requests signed the way a co-signer signs them.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import pino from 'pino'
import { Agent, request } from 'undici'
import {
  compileConfig,
  startHandler,
  type HandlerConfig,
  type RunningHandler,
} from '../../src/handler/index.js'
import {
  callbackPath,
  signCallbackRequest,
  type AuthMode,
  type CallbackRoute,
} from '../../src/protocol/index.js'
import { loadTxFixture } from '../../src/testing/index.js'
import { testKeyPair, type TestKeyPair } from '../support/keys.js'
import { makeSelfSignedCertificate } from '../support/tls.js'

export const SIGNER_ID = '3f2c1d4e-5b6a-4c8d-9e0f-1a2b3c4d5e6f' // the signerId of the fixtures
export const CERT_SIGNER_ID = 'cert-mode-user'

/** A policy that approves small whitelisted transfers, keeps a 50,000 USD window per source vault. */
export const TEST_POLICY = `
version: 7
timezone: UTC
defaults:
  tx_approval: IGNORE
  tx_signing: REJECT
  config_change: APPROVE
  on_error: { tx_approval: REJECT, tx_signing: REJECT, config_change: REJECT }
velocity:
  - id: vault_24h
    window: 24h
    group_by: [source.id]
    metrics: [sum_usd, count]
tx_approval:
  - id: approve-whitelisted
    match: { dest.address_type: WHITELISTED }
    action: APPROVE
    reason: whitelisted destination
tx_signing:
  - id: vault-limit
    when: velocity.vault_24h.sum_usd + amount_usd > 50000.0
    action: REJECT
    reason: over 50,000 USD per vault per 24h
  - id: one-time-hold
    match: { dest.address_type: ONE_TIME }
    require: { quorum: 2, approvers: [alice, bob, carol], ttl: 50m }
    reason: one-time address, held for 2 approvers
  - id: small-whitelisted
    match: { dest.address_type: WHITELISTED }
    when: amount_usd <= 10000.0
    action: APPROVE
    reason: small whitelisted transfer
config_change:
  - id: no-quorum-changes
    match: { type: [CHANGE_QUORUM_THRESHOLD] }
    action: REJECT
    reason: quorum changes are not automated
`

export interface TestHandler {
  readonly handler: RunningHandler
  readonly dir: string
  readonly url: string
  readonly cosigner: TestKeyPair
  readonly handlerKeys: TestKeyPair
  readonly caCert?: string
  readonly logs: Record<string, unknown>[]
  /** POSTs a body to a callback route and returns status, headers and text. */
  post(
    route: CallbackRoute,
    body: string | Buffer,
    mode?: AuthMode,
  ): Promise<{ status: number; contentType: string; body: string }>
  /** Signs `payload` with the co-signer key and POSTs it. */
  send(route: CallbackRoute, payload: unknown): Promise<{ status: number; contentType: string; body: string }>
  close(): Promise<void>
}

export interface TestHandlerOptions {
  readonly policy?: string
  readonly storeUrl?: string
  readonly tls?: boolean
  readonly decisionDeadline?: string
  readonly basePath?: string
  readonly webhooks?: readonly { readonly url: string; readonly secret: string }[]
}

export interface TestSetup {
  readonly config: HandlerConfig
  readonly dir: string
  readonly cosigner: TestKeyPair
  readonly handlerKeys: TestKeyPair
  readonly tls?: { readonly cert: string; readonly key: string }
}

/** A checked configuration in a fresh folder: test keys, the test policy, a SQLite store. */
export function makeTestSetup(options: TestHandlerOptions = {}): TestSetup {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-handler-'))
  const cosigner = testKeyPair('cosigner')
  const handlerKeys = testKeyPair('handler')
  writeFileSync(join(dir, 'policy.yaml'), options.policy ?? TEST_POLICY)
  const tls = options.tls ? makeSelfSignedCertificate(dir) : undefined
  const config = compileConfig(
    {
      listen: '127.0.0.1:0',
      basePath: options.basePath ?? '/fireblocks/callback',
      ...(tls ? { tls } : {}),
      cosigners: [{ name: 'test-cosigner', publicKey: cosigner.publicPem }],
      apiUsers: [
        { signerId: SIGNER_ID, authMode: 'jwt', handlerKey: handlerKeys.privatePem, default: true },
        ...(tls ? [{ signerId: CERT_SIGNER_ID, authMode: 'certificate', default: true }] : []),
      ],
      policy: 'policy.yaml',
      store: options.storeUrl ?? 'sqlite:store.db',
      decisionDeadline: options.decisionDeadline ?? '25s',
      ...(options.webhooks ? { webhooks: options.webhooks } : {}),
    },
    dir,
    {},
  )
  return { config, dir, cosigner, handlerKeys, ...(tls ? { tls } : {}) }
}

export async function startTestHandler(options: TestHandlerOptions = {}): Promise<TestHandler> {
  const { config, dir, cosigner, handlerKeys, tls } = makeTestSetup(options)
  const logs: Record<string, unknown>[] = []
  const log = pino(
    { level: 'info' },
    { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
  )
  const handler = await startHandler(config, { log })
  const dispatcher = tls ? new Agent({ connect: { ca: readFileSync(tls.cert, 'utf8') } }) : undefined
  const post: TestHandler['post'] = async (route, body, mode = 'jwt') => {
    const response = await request(`${handler.url}${callbackPath(config.basePath, mode, route)}`, {
      method: 'POST',
      body,
      headers: { 'content-type': mode === 'jwt' ? 'text/plain' : 'application/json' },
      ...(dispatcher ? { dispatcher } : {}),
    })
    return {
      status: response.statusCode,
      contentType: String(response.headers['content-type'] ?? ''),
      body: await response.body.text(),
    }
  }
  return {
    handler,
    dir,
    url: handler.url,
    cosigner,
    handlerKeys,
    ...(tls ? { caCert: tls.cert } : {}),
    logs,
    post,
    send: async (route, payload) => post(route, await signCallbackRequest(payload, cosigner.privateKey)),
    close: async () => {
      await handler.close()
      await dispatcher?.close()
    },
  }
}

/**
 * A folder holding a handler configuration file and its key and policy files, for running the handler
 * as a process: `countersign handler start --config countersign.yaml` from inside it. `cosigner.key` lets
 * the caller sign requests as the co-signer.
 */
export function writeConfigFolder(
  options: { policy?: string; storeUrl?: string; logLevel?: string } = {},
): string {
  const { policy = TEST_POLICY, storeUrl = 'sqlite:decisions.db', logLevel = 'info' } = options
  const dir = mkdtempSync(join(tmpdir(), 'countersign-process-'))
  writeFileSync(join(dir, 'cosigner.key'), testKeyPair('cosigner').privatePem, { mode: 0o600 })
  writeFileSync(join(dir, 'cosigner.pub'), testKeyPair('cosigner').publicPem)
  writeFileSync(join(dir, 'handler.key'), testKeyPair('handler').privatePem, { mode: 0o600 })
  writeFileSync(join(dir, 'policy.yaml'), policy)
  writeFileSync(
    join(dir, 'countersign.yaml'),
    [
      'listen: 127.0.0.1:0',
      'cosigners: [{ name: primary, publicKey: cosigner.pub }]',
      `apiUsers: [{ signerId: ${SIGNER_ID}, authMode: jwt, handlerKey: handler.key, default: true }]`,
      'policy: policy.yaml',
      `store: ${JSON.stringify(storeUrl)}`,
      `logLevel: ${logLevel}`,
    ].join('\n'),
  )
  return dir
}

/** A signing-stage ETH transfer worth `usd` to one whitelisted vault, with a fresh requestId. */
export function transferOfUsd(usd: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const requestId = randomUUID()
  const fixture = loadTxFixture('eth-transfer-signing')
  const [destination] = fixture.destinations as Record<string, unknown>[]
  return {
    ...fixture,
    requestId,
    txId: requestId,
    destinations: [{ ...destination, amountUSD: usd }],
    ...overrides,
  }
}
