/**
 * The hub driven by the official, unmodified `@fireblocks/ts-sdk` (hub-api.md §10): a vault, its
 * addresses, RAW signatures for the EVM, Bitcoin and Ed25519 assets and an EVM transfer to a one-time
 * address, each signed by a real threshold signature of the customer co-signer and the two cloud
 * co-signers (separate processes), and each verified here independently with @noble/curves and viem.
 */
import { keccak_256 } from '@noble/hashes/sha3.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { TransactionStateEnum, type Fireblocks, type TransactionResponse } from '@fireblocks/ts-sdk'
import { parseTransaction, recoverTransactionAddress, type Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readAudit, verifyChain } from '../../src/storage/index.js'
import { ecdsaSignerAddress, ecdsaVerifies, ed25519Verifies } from '../support/signatures.js'
import { startWorkspace, until, type ApiUser, type Workspace } from './workspace.js'

const TERMINAL = new Set(['COMPLETED', 'FAILED', 'BLOCKED', 'REJECTED', 'CANCELLED', 'TIMEOUT'])
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

let workspace: Workspace
let fireblocks: Fireblocks
let signer: ApiUser

async function finished(txId: string): Promise<TransactionResponse> {
  return until(`transaction ${txId} to finish`, async () => {
    const { data } = await fireblocks.transactions.getTransaction({ txId })
    return TERMINAL.has(data.status ?? '') ? data : undefined
  })
}

async function rawSign(assetId: string, content: string, externalTxId: string) {
  const created = await fireblocks.transactions.createTransaction({
    transactionRequest: {
      operation: 'RAW',
      assetId,
      source: { type: 'VAULT_ACCOUNT', id: '0' },
      externalTxId,
      note: `raw ${assetId}`,
      extraParameters: { rawMessageData: { messages: [{ content }] } },
    },
    idempotencyKey: `idem-${externalTxId}`,
  })
  expect(created.data).toMatchObject({ status: 'SUBMITTED' })
  return finished(created.data.id as string)
}

beforeAll(async () => {
  workspace = await startWorkspace()
  fireblocks = workspace.sdk(workspace.owner)
  signer = await workspace.createApiUser('signer one', 'SIGNER')
  await workspace.startCosigner(signer, 'cosigner-a')
}, 300_000)

afterAll(async () => {
  await workspace?.close()
})

describe('the hub through the official @fireblocks/ts-sdk', () => {
  let ethAddress: string

  it('creates a vault account, adds ETH_TEST6 and reads its deposit address', async () => {
    const vault = await fireblocks.vaults.createVaultAccount({
      createVaultAccountRequest: { name: 'hub-demo', hiddenOnUI: false, autoFuel: false },
    })
    expect(vault.data).toMatchObject({ id: '0', name: 'hub-demo' })
    const wallet = await fireblocks.vaults.createVaultAccountAsset({
      vaultAccountId: '0',
      assetId: 'ETH_TEST6',
    })
    expect(wallet.data.address).toMatch(/^0x[0-9a-fA-F]{40}$/)
    const addresses = await fireblocks.vaults.getVaultAccountAssetAddressesPaginated({
      vaultAccountId: '0',
      assetId: 'ETH_TEST6',
      limit: 1,
    })
    ethAddress = addresses.data.addresses?.[0]?.address as string
    expect(ethAddress).toBe(wallet.data.address)
    for (const assetId of ['BTC_TEST', 'SOL_TEST'])
      await fireblocks.vaults.createVaultAccountAsset({ vaultAccountId: '0', assetId })
  })

  it('signs a RAW keccak-256 digest that verifies and recovers to the vault address', async () => {
    const digest = hex(keccak_256(new TextEncoder().encode('hello hub')))
    const tx = await rawSign('ETH_TEST6', digest, 'raw-eth-1')
    expect(tx).toMatchObject({ status: TransactionStateEnum.Completed, txHash: '' })
    const [signed] = tx.signedMessages ?? []
    expect(signed).toMatchObject({
      content: digest,
      algorithm: 'MPC_ECDSA_SECP256K1',
      derivationPath: [44, 1, 0, 0, 0],
    })
    const { r, s, fullSig } = signed?.signature ?? {}
    expect(fullSig).toBe(`${r}${s}`)
    expect(ecdsaVerifies(tx, digest)).toBe(true)
    expect(await ecdsaSignerAddress(tx, digest)).toBe(ethAddress)
  })

  it('signs RAW for the Bitcoin asset (secp256k1) and the Ed25519 asset', async () => {
    const btcDigest = hex(sha256(sha256(new TextEncoder().encode('bitcoin message'))))
    const btc = await rawSign('BTC_TEST', btcDigest, 'raw-btc-1')
    expect(btc.status).toBe('COMPLETED')
    expect(ecdsaVerifies(btc, btcDigest)).toBe(true)

    const message = hex(new TextEncoder().encode('a solana message of any length'))
    const sol = await rawSign('SOL_TEST', message, 'raw-sol-1')
    expect(sol.status).toBe('COMPLETED')
    expect(sol.signedMessages?.[0]?.algorithm).toBe('MPC_EDDSA_ED25519')
    expect(ed25519Verifies(sol, message)).toBe(true)
  })

  it('transfers to a one-time address: a signed EIP-1559 transaction from the vault address', async () => {
    const created = await fireblocks.transactions.createTransaction({
      transactionRequest: {
        operation: 'TRANSFER',
        assetId: 'ETH_TEST6',
        source: { type: 'VAULT_ACCOUNT', id: '0' },
        destination: {
          type: 'ONE_TIME_ADDRESS',
          oneTimeAddress: { address: '0x000000000000000000000000000000000000dEaD' },
        },
        amount: '0.001',
        externalTxId: 'xfer-0001',
      },
    })
    const tx = await finished(created.data.id as string)
    expect(tx).toMatchObject({
      status: 'COMPLETED',
      destinationAddress: '0x000000000000000000000000000000000000dEaD',
      sourceAddress: ethAddress,
    })
    expect(tx.amountInfo).toMatchObject({ amount: '0.001' })
    const raw = (tx as { signedTransaction?: string }).signedTransaction as Hex
    const parsed = parseTransaction(raw)
    expect(parsed).toMatchObject({
      type: 'eip1559',
      to: '0x000000000000000000000000000000000000dead',
      value: 10n ** 15n,
    })
    expect(await recoverTransactionAddress({ serializedTransaction: raw as `0x02${string}` })).toBe(
      ethAddress,
    )
    expect(tx.txHash).toMatch(/^0x[0-9a-f]{64}$/)
    // The vault's ledger holds what the hub signed: without a chain node it knows no deposits.
    const balance = await fireblocks.vaults.getVaultAccountAsset({
      vaultAccountId: '0',
      assetId: 'ETH_TEST6',
    })
    expect(balance.data).toMatchObject({ total: '-0.001', pending: '0' })

    const again = await fireblocks.transactions.getTransactionByExternalId({ externalTxId: 'xfer-0001' })
    expect(again.data.id).toBe(created.data.id)
    await expect(
      fireblocks.transactions.createTransaction({
        transactionRequest: {
          operation: 'TRANSFER',
          assetId: 'ETH_TEST6',
          source: { type: 'VAULT_ACCOUNT', id: '0' },
          destination: {
            type: 'ONE_TIME_ADDRESS',
            oneTimeAddress: { address: '0x000000000000000000000000000000000000dEaD' },
          },
          amount: '0.001',
          externalTxId: 'xfer-0001',
        },
      }),
    ).rejects.toMatchObject({
      message: expect.stringMatching(/already exists/),
      response: { statusCode: 400 },
    })
  })

  it('lists transactions with the paging headers and replays an Idempotency-Key', async () => {
    const first = await fireblocks.transactions.getTransactions({ limit: 2, sort: 'ASC' })
    expect(first.data).toHaveLength(2)
    const next = first.headers['next-page']
    expect(next).toMatch(/\/v1\/transactions\?.*next=/)
    const cursor = new URL(next as string).searchParams.get('next') as string
    const second = await fireblocks.transactions.getTransactions({ limit: 2, sort: 'ASC', next: cursor })
    expect(second.data.map((tx) => tx.id)).not.toContain(first.data[0]?.id)
    const digest = hex(keccak_256(new TextEncoder().encode('idempotent')))
    const request = {
      transactionRequest: {
        operation: 'RAW' as const,
        assetId: 'ETH_TEST6',
        source: { type: 'VAULT_ACCOUNT' as const, id: '0' },
        extraParameters: { rawMessageData: { messages: [{ content: digest }] } },
      },
      idempotencyKey: 'idem-replayed',
    }
    const a = await fireblocks.transactions.createTransaction(request)
    const b = await fireblocks.transactions.createTransaction(request)
    expect(b.data.id).toBe(a.data.id)
  })

  it('keeps every state-changing call, policy match, status change and signature in a verifying audit chain', async () => {
    const db = workspace.hub.hub.db
    const read = <T>(work: Parameters<typeof db.read<T>>[0]) => db.read(work)
    expect(await verifyChain(read)).toMatchObject({ ok: true })
    const events: string[] = []
    for await (const entry of readAudit(read)) events.push(entry.event)
    for (const event of [
      'policy-bootstrap',
      'api-call',
      'transaction-created',
      'policy-match',
      'transaction-status',
      'signature',
    ])
      expect(events).toContain(event)
  })
})
