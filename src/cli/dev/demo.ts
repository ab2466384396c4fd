import { createPrivateKey, randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { openStore } from '../../storage/index.js'
import { hubClient, type HubClient } from './hub-client.js'
import type { DevState } from './state.js'
import {
  checkApproval,
  checkRawSignature,
  checkSignedTransfer,
  type Check,
  type SignedMessageView,
} from './verify.js'

const ASSET = 'ETH_TEST6'
const AMOUNT = '0.001'
const AMOUNT_WEI = 10n ** 15n
const TERMINAL = new Set(['COMPLETED', 'FAILED', 'BLOCKED', 'REJECTED', 'CANCELLED', 'TIMEOUT'])

interface TransactionView {
  readonly id: string
  readonly status: string
  readonly subStatus?: string
  readonly errorDescription?: string
  readonly txHash?: string
  readonly signedMessages?: readonly SignedMessageView[]
  readonly signedTransaction?: string
  /** The API users whose co-signers signed it (hub: the designated signer chosen). */
  readonly signedBy?: readonly string[]
}

export interface DemoOptions {
  /** The callback handler's SQLite database, where its answer to each signing request is recorded. */
  readonly handlerDatabase: string
  /** How long each transaction may take to finish. */
  readonly timeoutMs: number
  readonly print: (line: string) => void
}

/**
 * `countersign dev demo`: the minimal flow through the hub's REST API, as the banner's API user — a new vault
 * account, its ETH_TEST6 wallet and address, a RAW signature of a keccak-256 digest, and a transfer of 0.001
 * ETH_TEST6 to a one-time address — printing each step and verifying each signature itself. True when every
 * step completed and every check held.
 */
export async function runDemo(state: DevState, options: DemoOptions): Promise<boolean> {
  const { print } = options
  const { apiUser } = state
  const client = hubClient(
    state.hubUrl,
    apiUser.apiKey,
    createPrivateKey(await readFile(apiUser.privateKey, 'utf8')),
  )
  print(`countersign dev demo — ${state.hubUrl}/v1 as API user ${apiUser.name} (${apiUser.apiKey})`)

  const name = `dev demo ${new Date().toISOString()}`
  print(`1. create a vault account "${name}"`)
  const vault = await client.post<{ id: string }>('/v1/vault/accounts', {
    name,
    hiddenOnUI: false,
    autoFuel: false,
  })
  print(`   vault ${vault.id}`)

  print(`2. add ${ASSET} to vault ${vault.id}`)
  const wallet = await client.post<{ address: string }>(`/v1/vault/accounts/${vault.id}/${ASSET}`)
  print(`   deposit address ${wallet.address}`)

  print('3. read the address back')
  const { addresses } = await client.get<{ addresses: { address: string }[] }>(
    `/v1/vault/accounts/${vault.id}/${ASSET}/addresses_paginated?limit=1`,
  )
  const address = addresses[0]?.address ?? ''
  let passed = report(print, [
    { ok: address === wallet.address, label: `the wallet's address is ${address}` },
  ])

  const text = `countersign dev demo ${randomBytes(8).toString('hex')}`
  const digest = Buffer.from(keccak_256(new TextEncoder().encode(text))).toString('hex')
  print(`4. RAW signature of keccak-256("${text}")`)
  const raw = await transaction(client, options, {
    operation: 'RAW',
    assetId: ASSET,
    source: { type: 'VAULT_ACCOUNT', id: vault.id },
    note: 'countersign dev demo: RAW signature',
    extraParameters: { rawMessageData: { messages: [{ content: digest }] } },
  })
  const signed = raw.signedMessages?.[0]
  if (raw.status === 'COMPLETED' && signed !== undefined)
    passed =
      report(print, [
        await handlerApproval(options.handlerDatabase, raw, apiUser.apiKey),
        ...checkRawSignature(signed, digest, address),
      ]) && passed
  else passed = false

  const destination = `0x${randomBytes(20).toString('hex')}`
  print(`5. TRANSFER ${AMOUNT} ${ASSET} to the one-time address ${destination}`)
  const transfer = await transaction(client, options, {
    operation: 'TRANSFER',
    assetId: ASSET,
    source: { type: 'VAULT_ACCOUNT', id: vault.id },
    destination: { type: 'ONE_TIME_ADDRESS', oneTimeAddress: { address: destination } },
    amount: AMOUNT,
    note: 'countersign dev demo: transfer',
  })
  if (transfer.status === 'COMPLETED' && transfer.signedTransaction !== undefined)
    passed =
      report(print, [
        await handlerApproval(options.handlerDatabase, transfer, apiUser.apiKey),
        ...checkSignedTransfer(transfer.signedTransaction, {
          from: address,
          to: destination,
          wei: AMOUNT_WEI,
          txHash: transfer.txHash ?? '',
        }),
      ]) && passed
  else passed = false

  print(
    passed
      ? 'All steps completed; every signature verified.'
      : 'FAILED: a step did not complete or a check did not hold (see above).',
  )
  return passed
}

/** Prints each check; true when all held. */
function report(print: (line: string) => void, checks: readonly Check[]): boolean {
  for (const check of checks) print(`   ${check.ok ? 'ok  ' : 'FAIL'} ${check.label}`)
  return checks.every((check) => check.ok)
}

/** Creates the transaction and follows it until it finishes, printing its outcome. */
async function transaction(
  client: HubClient,
  options: DemoOptions,
  request: Record<string, unknown>,
): Promise<TransactionView> {
  const started = Date.now()
  const { id } = await client.post<{ id: string }>('/v1/transactions', request)
  let tx = await client.get<TransactionView>(`/v1/transactions/${id}`)
  while (!TERMINAL.has(tx.status)) {
    if (Date.now() - started > options.timeoutMs) break
    await new Promise((resolve) => setTimeout(resolve, 250))
    tx = await client.get<TransactionView>(`/v1/transactions/${id}`)
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1)
  const why = [tx.subStatus, tx.errorDescription]
    .filter((part) => part !== undefined && part !== '')
    .join(': ')
  options.print(`   transaction ${id} ${tx.status}${why === '' ? '' : ` (${why})`} after ${seconds} s`)
  return tx
}

/**
 * The callback handler's own record of the transaction's signing request (its requestId is the txId), when
 * the co-signer that signed is the one asking it; the other co-signer has no handler and approves by itself.
 */
async function handlerApproval(database: string, tx: TransactionView, withHandler: string): Promise<Check> {
  const signer = tx.signedBy?.[0]
  if (signer !== undefined && signer !== withHandler)
    return {
      ok: true,
      label: `signed with the co-signer of API user ${signer}, which has no callback handler`,
    }
  if (!existsSync(database)) return checkApproval(undefined)
  const store = await openStore(`sqlite:${database}`)
  try {
    return checkApproval((await store.readDecision(tx.id, 'tx'))[0])
  } finally {
    await store.close()
  }
}
