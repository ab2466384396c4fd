import { generateKeyPairSync, verify } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import { makeSelfSignedCertificate } from '../../test/support/tls.js'
import { canonicalJson, systemClock } from '../core/index.js'
import { generateRsaKeyPair } from '../keys/index.js'
import type { ApproveBody, ConfigBody } from '../protocol/index.js'
import { openCosignerStore, type CosignerStore } from '../storage/index.js'
import { createApprover, createConfigApprover, type ApproverOptions } from './approver.js'
import { callbackTarget } from './callback-target.js'

const dir = mkdtempSync(join(tmpdir(), 'cs-approver-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const tls = makeSelfSignedCertificate(dir)
const cert = readFileSync(tls.cert, 'utf8')

/** A handler in certificate mode: plain JSON over TLS; answers `action` and records what it was sent. */
async function certificateHandler(action: string, seen: string[]): Promise<string> {
  const server = createServer({ key: readFileSync(tls.key), cert }, (request, reply) => {
    let body = ''
    request.on('data', (chunk: Buffer) => (body += chunk.toString()))
    request.on('end', () => {
      seen.push(`${request.url} ${body}`)
      const { requestId } = JSON.parse(body) as { requestId: string }
      reply.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ action, requestId }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  afterAll(() => new Promise((resolve) => server.close(resolve)))
  const address = server.address() as { port: number }
  return `https://127.0.0.1:${address.port}`
}

let stores = 0
async function options(url: string | undefined): Promise<ApproverOptions & { store: CosignerStore }> {
  const store = await openCosignerStore(`sqlite:${join(dir, `store-${++stores}.db`)}`)
  afterAll(() => store.close())
  return {
    party: 'alice',
    store,
    target: () => Promise.resolve(url === undefined ? undefined : callbackTarget({ url, cert })),
    cosignerKey: (await generateRsaKeyPair(2048)).privateKey,
    schedule: { timeoutMs: 5_000, retryIntervalMs: 100, maxRetries: 2 },
    clock: systemClock,
    log: pino({ level: 'silent' }),
  }
}

const approveBody = (): ApproveBody => ({
  job: 'tx-1:1:approve',
  txId: 'tx-1',
  attempt: 1,
  requestId: 'tx-1',
  algorithm: 'MPC_ECDSA_SECP256K1',
  messages: [{ content: 'ab'.repeat(32), path: [44, 1, 0, 0, 0] }],
  payload: JSON.parse(
    readFileSync(join(import.meta.dirname, '../../fixtures/tx/eth-transfer-signing.json'), 'utf8'),
  ) as Record<string, unknown>,
})

describe('the co-signer approver', () => {
  it('asks a certificate-mode handler over TLS pinned to its certificate, and records the decision', async () => {
    const seen: string[] = []
    const opts = await options(await certificateHandler('REJECT', seen))
    const body = { ...approveBody(), payload: { ...approveBody().payload, requestId: 'tx-1' } }
    const answer = await createApprover(opts)(body, new AbortController().signal)
    expect(answer).toEqual({ outcome: 'declined', reason: 'rejected by the callback handler' })
    expect(seen).toHaveLength(1)
    expect(seen[0]).toMatch(/^\/tx_sign_request \{/)
    expect(await opts.store.approvalOf('alice', 'tx-1', 1)).toMatchObject({ outcome: 'declined' })
    expect(await opts.store.verifyAudit()).toMatchObject({ ok: true, entries: 2 })
  })

  it('signs an approved configuration change with the configuration-change key, and only the one shown', async () => {
    const seen: string[] = []
    const opts = await options(await certificateHandler('APPROVE', seen))
    const configKey = generateKeyPairSync('ed25519')
    const approver = createConfigApprover({ ...opts, configKey: configKey.privateKey })
    const statement = {
      type: 'POLICY_APPROVAL',
      draftId: 'd-1',
      digest: 'cd'.repeat(32),
      userId: 'alice',
      decision: 'APPROVE',
    }
    const body: ConfigBody = {
      job: 'config:d-1:alice',
      requestId: 'd-1.alice',
      payload: {
        requestId: 'd-1.alice',
        type: 'POLICY_APPROVAL',
        extraInfo: { policyType: 'TRANSFER', rulesCount: 1, draftId: 'd-1', digest: 'cd'.repeat(32) },
        signerId: 'alice',
      },
      statement,
    }
    const answer = await approver(body, new AbortController().signal)
    expect(answer.outcome).toBe('done')
    const signature = Buffer.from((answer as { signature: string }).signature, 'hex')
    expect(verify(null, Buffer.from(canonicalJson(statement)), configKey.publicKey, signature)).toBe(true)
    expect(seen[0]).toMatch(/^\/config_change_sign_request /)

    // A statement about another draft than the request shown: refused before the handler is asked.
    const other = await approver(
      { ...body, job: 'config:d-2:alice', statement: { ...statement, digest: 'ef'.repeat(32) } },
      new AbortController().signal,
    )
    expect(other).toMatchObject({
      outcome: 'failed',
      reason: expect.stringContaining('does not match') as string,
    })
    expect(seen).toHaveLength(1)
  })

  it('approves by itself when no handler is configured', async () => {
    const opts = await options(undefined)
    expect(await createApprover(opts)(approveBody(), new AbortController().signal)).toEqual({
      outcome: 'done',
    })
  })
})
