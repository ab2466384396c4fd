/**
 * The hub's webhooks as a Fireblocks receiver sees them (docs/hub-webhooks.md): an endpoint listed in
 * hub.yaml receives TRANSACTION_CREATED, then one TRANSACTION_STATUS_UPDATED per status the transaction
 * took up to COMPLETED; every request verifies the way Fireblocks' official Node sample verifies it (RSA-SHA512
 * over JSON.stringify of the parsed body, with the workspace's webhook public key) and against the hub's
 * JWKS, and a body altered in transit does not verify.
 */
import { createPrivateKey, createPublicKey, createVerify, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { join } from 'node:path'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { compactVerify, createRemoteJWKSet, exportJWK } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readTransactionHistory } from '../../src/storage/index.js'
import { startWorkspace, transactionIn, until, type Workspace } from './workspace.js'

interface Delivery {
  readonly body: string
  readonly headers: IncomingHttpHeaders
}

interface V1Event {
  readonly type: string
  readonly tenantId: string
  readonly data: { readonly id: string; readonly status: string; readonly subStatus: string }
}

const deliveries: Delivery[] = []
let receiver: Server
let workspace: Workspace
let webhookPublicKey: KeyObject

/** A receiver on loopback that keeps every request and answers 200, as a Fireblocks receiver should. */
async function startReceiver(): Promise<string> {
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      deliveries.push({ body: Buffer.concat(chunks).toString('utf8'), headers: request.headers })
      response.writeHead(200).end()
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  const address = receiver.address()
  if (typeof address !== 'object' || address === null) throw new Error('the receiver has no port')
  return `http://127.0.0.1:${address.port}/webhook`
}

/** Fireblocks' sample, unchanged but for the key: verify `Fireblocks-Signature` over the re-serialised body. */
function sampleVerifies(parsedBody: unknown, signature: string, publicKey: KeyObject): boolean {
  const verifier = createVerify('RSA-SHA512')
  verifier.write(JSON.stringify(parsedBody))
  verifier.end()
  return verifier.verify(publicKey, signature, 'base64')
}

function eventsOf(txId: string): V1Event[] {
  return deliveries
    .map((delivery) => JSON.parse(delivery.body) as V1Event)
    .filter((event) => event.data.id === txId)
}

beforeAll(async () => {
  const endpoint = await startReceiver()
  workspace = await startWorkspace({ webhookEndpoints: [endpoint] })
  webhookPublicKey = createPublicKey(
    createPrivateKey(readFileSync(join(workspace.dir, 'keys', 'webhook-signing.key'), 'utf8')),
  )
  const signer = await workspace.createApiUser('webhook signer', 'SIGNER')
  await workspace.startCosigner(signer, 'cosigner-w')
  const fireblocks = workspace.sdk(workspace.owner)
  await fireblocks.vaults.createVaultAccount({ createVaultAccountRequest: { name: 'hooks' } })
  await fireblocks.vaults.createVaultAccountAsset({ vaultAccountId: '0', assetId: 'ETH_TEST6' })
}, 300_000)

afterAll(async () => {
  await workspace?.close()
  await new Promise((resolve) => receiver?.close(resolve))
})

describe('webhooks of a RAW transaction, to an endpoint of hub.yaml', () => {
  let txId: string

  it('delivers TRANSACTION_CREATED, then TRANSACTION_STATUS_UPDATED for each status up to COMPLETED', async () => {
    const fireblocks = workspace.sdk(workspace.owner)
    const content = Buffer.from(keccak_256(new TextEncoder().encode('webhooked'))).toString('hex')
    const created = await fireblocks.transactions.createTransaction({
      transactionRequest: {
        operation: 'RAW',
        assetId: 'ETH_TEST6',
        source: { type: 'VAULT_ACCOUNT', id: '0' },
        note: 'webhooked',
        extraParameters: { rawMessageData: { messages: [{ content }] } },
      },
    })
    txId = created.data.id as string
    expect((await transactionIn(fireblocks, txId)).status).toBe('COMPLETED')
    await until('the COMPLETED webhook', async () =>
      eventsOf(txId).some((event) => event.data.status === 'COMPLETED') ? true : undefined,
    )

    const events = eventsOf(txId)
    const history = await workspace.hub.hub.db.read((db) => readTransactionHistory(db, txId))
    expect(history.map((change) => change.status)).toEqual([
      'SUBMITTED',
      'QUEUED',
      'PENDING_SIGNATURE',
      'COMPLETED',
    ])
    expect(events.map((event) => [event.type, event.data.status])).toEqual([
      ['TRANSACTION_CREATED', 'SUBMITTED'],
      ...history.slice(1).map((change) => ['TRANSACTION_STATUS_UPDATED', change.status]),
    ])
    const hubYaml = readFileSync(join(workspace.dir, 'hub.yaml'), 'utf8')
    for (const event of events) expect(hubYaml).toContain(`workspaceId: ${event.tenantId}`)
  })

  it("verifies every delivery as Fireblocks' Node sample does, and refuses an altered body", () => {
    const ours = deliveries.filter((delivery) => (JSON.parse(delivery.body) as V1Event).data.id === txId)
    expect(ours.length).toBeGreaterThanOrEqual(4)
    for (const delivery of ours) {
      const signature = delivery.headers['fireblocks-signature']
      expect(typeof signature).toBe('string')
      expect(sampleVerifies(JSON.parse(delivery.body), signature as string, webhookPublicKey)).toBe(true)
    }
    const first = ours[0] as Delivery
    const altered = JSON.parse(first.body) as { data: { status: string } }
    altered.data.status = 'COMPLETED'
    expect(sampleVerifies(altered, first.headers['fireblocks-signature'] as string, webhookPublicKey)).toBe(
      false,
    )
  })

  it('verifies every detached JWS against the JWKS the hub publishes, which holds the workspace key', async () => {
    const jwksUrl = new URL(`${workspace.url}/.well-known/jwks.json`)
    const published = (await (await fetch(jwksUrl)).json()) as { keys: { n: string; e: string }[] }
    const expected = await exportJWK(webhookPublicKey)
    expect(published.keys).toEqual([expect.objectContaining({ n: expected.n, e: expected.e })])

    const jwks = createRemoteJWKSet(jwksUrl)
    const ours = deliveries.filter((delivery) => (JSON.parse(delivery.body) as V1Event).data.id === txId)
    for (const delivery of ours) {
      const [header, detached, signature] = String(delivery.headers['fireblocks-webhook-signature']).split(
        '.',
      )
      expect(detached).toBe('')
      const payload = Buffer.from(delivery.body).toString('base64url')
      const verified = await compactVerify(`${header}.${payload}.${signature}`, jwks, {
        algorithms: ['RS512'],
      })
      expect(new TextDecoder().decode(verified.payload)).toBe(delivery.body)
      const forged = Buffer.from(delivery.body.replace('"status":"', '"status":"X')).toString('base64url')
      await expect(
        compactVerify(`${header}.${forged}.${signature}`, jwks, { algorithms: ['RS512'] }),
      ).rejects.toThrow(/signature verification failed/)
    }
  })
})
