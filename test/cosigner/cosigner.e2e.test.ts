/**
 * The co-signer daemon end to end, against a real hub and real cloud co-signers (processes started here):
 * pairing with a single-use token, then each answer of the API user's callback handler — APPROVE signs,
 * REJECT ends the transaction REJECTED with its reason, RETRY is followed (and resumed after a SIGKILL)
 * until APPROVE, a handler silent for 30 s fails it, and without a handler the co-signer approves itself.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Fireblocks, TransactionResponse } from '@fireblocks/ts-sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openCosignerFolder } from '../../src/cosigner/index.js'
import { spawnCli, type CliProcess } from '../support/process.js'
import { ecdsaVerifies } from '../support/signatures.js'
import {
  createRaw as createRawTransaction,
  digestOf,
  startWorkspace,
  transactionIn,
  until,
  type ApiUser,
  type Workspace,
} from '../hub/workspace.js'
import {
  attachScriptedHandler,
  startScriptedHandler,
  type ScriptedAnswer,
  type ScriptedHandler,
} from './scripted-handler.js'

const SCHEDULE = ['--callback-retry-interval', '1s', '--log-level', 'info']

let workspace: Workspace
let fireblocks: Fireblocks
let signer: ApiUser
let handler: ScriptedHandler
let cosignerDir: string
let counter = 0
let daemon: CliProcess

async function cli(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const run = spawnCli(args, workspace.dir, env)
  return { code: await run.exited, output: run.output() }
}

/** Creates a RAW ECDSA signature request with `answers` scripted for it; resolves with its id. */
async function createRaw(answers: readonly ScriptedAnswer[]): Promise<string> {
  const externalTxId = `cosigner-e2e-${++counter}`
  handler.script(externalTxId, answers)
  return createRawTransaction(fireblocks, digestOf(externalTxId), { externalTxId })
}

/** The same, finished. */
async function rawSignature(answers: readonly ScriptedAnswer[]): Promise<TransactionResponse> {
  return transactionIn(fireblocks, await createRaw(answers))
}

const requestsOf = (txId: string) => handler.seen.filter((request) => request.txId === txId)

beforeAll(async () => {
  handler = await startScriptedHandler()
  workspace = await startWorkspace()
  fireblocks = workspace.sdk(workspace.owner)
  signer = await workspace.createApiUser('signer one', 'SIGNER')
  await workspace.startCosigner(signer, 'cosigner-a', { startArgs: SCHEDULE })
  cosignerDir = join(workspace.dir, 'cosigner-a')
  await fireblocks.vaults.createVaultAccount({
    createVaultAccountRequest: { name: 'co-signer e2e', hiddenOnUI: false, autoFuel: false },
  })
  await fireblocks.vaults.createVaultAccountAsset({ vaultAccountId: '0', assetId: 'ETH_TEST6' })
}, 300_000)

afterAll(async () => {
  await workspace?.close()
  await handler?.close()
})

describe('the co-signer daemon', { timeout: 180_000 }, () => {
  it('pairs with a single-use token: a second use of the same token is refused', async () => {
    const token = await workspace.pairingToken(signer)
    const other = join(workspace.dir, 'cosigner-other')
    const first = await cli(['cosigner', 'pair', '--hub', workspace.url, '--dir', other], {
      COUNTERSIGN_PAIRING_TOKEN: token,
    })
    expect(first.code, first.output).toBe(0)
    const second = await cli(['cosigner', 'pair', '--hub', workspace.url, '--dir', `${other}-2`], {
      COUNTERSIGN_PAIRING_TOKEN: token,
    })
    expect(second.code).not.toBe(0)
    expect(second.output).toMatch(/pairing token already used/)
    // The co-signer under test pairs again (re-enrolment) so that its refresh token is the current one.
    const again = await cli(['cosigner', 'pair', '--hub', workspace.url, '--dir', cosignerDir], {
      COUNTERSIGN_PAIRING_TOKEN: await workspace.pairingToken(signer),
    })
    expect(again.code, again.output).toBe(0)
    // Its running daemon holds the revoked token (the hub refuses it, and it stops): start it again.
    await workspace.stopCosigner('cosigner-a', 'SIGTERM')
    daemon = workspace.restartCosigner('cosigner-a', { startArgs: SCHEDULE })
  })

  it('approves by itself when no callback handler is configured', async () => {
    const before = handler.seen.length
    const tx = await rawSignature(['APPROVE'])
    expect(tx.status).toBe('COMPLETED')
    expect(ecdsaVerifies(tx)).toBe(true)
    expect(handler.seen.length).toBe(before) // the handler was never asked
  })

  it('signs what the callback handler approves, the request naming the signer', async () => {
    await attachScriptedHandler(handler, cosignerDir, signer.id)

    const tx = await rawSignature(['APPROVE'])
    expect(tx.status).toBe('COMPLETED')
    expect(ecdsaVerifies(tx)).toBe(true)
    const [request] = requestsOf(tx.id as string)
    expect(request).toMatchObject({ requestId: tx.id, signerId: signer.id })
    expect(request?.payload).toMatchObject({
      operation: 'RAW',
      asset: 'ETH_TEST6',
      rawTx: [{ payload: tx.signedMessages?.[0]?.content, keyDerivationPath: '[ 44, 1, 0, 0, 0 ]' }],
    })
  })

  it('ends the transaction REJECTED with the handler’s reason', async () => {
    const tx = await rawSignature([{ action: 'REJECT', reason: 'destination not on the allow-list' }])
    expect(tx.status).toBe('REJECTED')
    expect(tx.signedMessages ?? []).toHaveLength(0)
    const { data } = await fireblocks.transactions.getTransaction({ txId: tx.id as string })
    expect(JSON.stringify(data)).toContain('destination not on the allow-list')
  })

  it('follows RETRY with the identical request until APPROVE', async () => {
    const tx = await rawSignature(['RETRY', 'RETRY', 'APPROVE'])
    expect(tx.status).toBe('COMPLETED')
    expect(ecdsaVerifies(tx)).toBe(true)
    const requests = requestsOf(tx.id as string)
    expect(requests).toHaveLength(3)
    expect(new Set(requests.map((request) => request.body)).size).toBe(1)
    expect(requests[1]!.at - requests[0]!.at).toBeGreaterThanOrEqual(900)
  })

  it('fails a signing request the handler answers IGNORE (fail closed: IGNORE is for approvals)', async () => {
    const tx = await rawSignature(['IGNORE'])
    expect(tx.status).toBe('FAILED')
    expect(tx.signedMessages ?? []).toHaveLength(0)
    const { data } = await fireblocks.transactions.getTransaction({ txId: tx.id as string })
    expect(JSON.stringify(data)).toMatch(/IGNORE/)
  })

  it('resumes a RETRY series after a SIGKILL, re-sending the same request', async () => {
    const txId = await createRaw(['RETRY', 'RETRY', 'RETRY', 'APPROVE'])
    await until('the first RETRY', async () => (requestsOf(txId).length >= 1 ? true : undefined))
    // Restart it with a long interval, so that only a resumed schedule (not a new series) can explain timing.
    await workspace.stopCosigner('cosigner-a', 'SIGKILL')
    daemon = workspace.restartCosigner('cosigner-a', { startArgs: SCHEDULE })
    const tx = await transactionIn(fireblocks, txId)
    expect(tx.status).toBe('COMPLETED')
    expect(ecdsaVerifies(tx)).toBe(true)
    const requests = requestsOf(txId)
    expect(requests.length).toBe(4)
    expect(new Set(requests.map((request) => request.body)).size).toBe(1)
    // The restarted daemon went on with the stored series: its first attempt is not attempt 1.
    const attempts = daemon
      .output()
      .split('\n')
      .filter((line) => line.includes('callback handler answered') && line.includes(txId))
      .map((line) => (JSON.parse(line) as { attempt: number }).attempt)
    expect(attempts.length).toBeGreaterThan(0)
    expect(Math.min(...attempts)).toBeGreaterThan(1)
  })

  it('fails the transaction when the handler does not answer within 30 seconds', async () => {
    const started = Date.now()
    const tx = await rawSignature(['HANG'])
    expect(tx.status).toBe('FAILED')
    expect(Date.now() - started).toBeGreaterThanOrEqual(29_000)
    const { data } = await fireblocks.transactions.getTransaction({ txId: tx.id as string })
    expect(JSON.stringify(data)).toMatch(/callback handler/)
  }, 90_000)

  it('keeps a hash-chained audit, and no secret in its database, WAL, backup or logs', async () => {
    const status = await cli(['cosigner', 'status', '--dir', cosignerDir])
    expect(status.code, status.output).toBe(0)
    expect(JSON.parse(status.output)).toMatchObject({ kek: 'file', apiUsers: 1, audit: { ok: true } })
    const backupDir = join(workspace.dir, 'cosigner-a-backup')
    const backup = await cli(['cosigner', 'backup', '--dir', cosignerDir, '--out', backupDir])
    expect(backup.code, backup.output).toBe(0)

    // The secrets, opened here with the folder's KEK, and every form they could leak in.
    const folder = await openCosignerFolder(cosignerDir, {})
    const secrets = await Promise.all([
      folder.secrets.get('refresh-token', `${signer.id}/refresh`),
      folder.secrets.get('party-key', `${signer.id}/x25519`),
      folder.secrets.get('callback-key', 'cosigner'),
      folder.secrets.get('key-share', `${signer.id}/MPC_ECDSA_SECP256K1/${signer.id}`),
    ])
    await folder.close()
    const needles = secrets.flatMap((secret) => {
      expect(secret).toBeDefined()
      const bytes = Buffer.from(secret!)
      const text = bytes.toString('utf8')
      // A PEM's base64 body lines, a token as text; a binary share by a 32-byte window of it.
      const forms = text.includes('-----BEGIN')
        ? text.split('\n').filter((line) => line.length > 40 && !line.startsWith('-----'))
        : [bytes.subarray(8, 40).toString('hex'), bytes.subarray(8, 40).toString('base64')]
      return [...forms, ...(text.includes('-----') ? [] : [text.slice(0, 40)])].filter(
        (form) => form.length >= 16,
      )
    })
    expect(needles.length).toBeGreaterThan(4)
    const places = [
      ...[cosignerDir, backupDir].flatMap((dir) =>
        readdirSync(dir).map((file) => [join(dir, file), readFileSync(join(dir, file))] as const),
      ),
      ['the daemon’s logs', Buffer.from(daemon.output())] as const,
    ]
    expect(places.map(([name]) => name)).toEqual(
      expect.arrayContaining([expect.stringMatching(/cosigner\.db-wal$/)]),
    )
    for (const [name, content] of places)
      for (const needle of needles) expect(content.includes(needle), `${name} holds a secret`).toBe(false)
  })
})
