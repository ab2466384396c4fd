import { keccak_256 } from '@noble/hashes/sha3.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { Transaction } from 'micro-eth-signer'
import { requireAddress } from './addresses.js'
import type { ChainAsset } from './assets.js'
import { ChainError } from './errors.js'
import { recoverEvmAddress, type RawSignature } from './signatures.js'

/** A plain value transfer costs exactly the intrinsic gas. */
export const TRANSFER_GAS_LIMIT = 21_000n

export interface EvmTransferRequest {
  /** The source vault address: the signature must recover to it. */
  readonly from: string
  readonly to: string
  /** Wei (see `parseAmount`). */
  readonly value: bigint
  readonly nonce: bigint
  readonly maxFeePerGas: bigint
  readonly maxPriorityFeePerGas: bigint
}

/** An unsigned EIP-1559 transfer and the digest its sender's key must sign; plain strings, so it can be stored. */
export interface UnsignedEvmTransfer {
  readonly from: string
  /** The unsigned transaction, EIP-2718 encoded, 0x-prefixed. */
  readonly unsignedTransaction: string
  /** keccak256 of the unsigned transaction: 64 lowercase hex digits, no 0x (the `content` a party signs). */
  readonly signingHash: string
}

export interface SignedEvmTransfer {
  /** The raw transaction to broadcast (`eth_sendRawTransaction`), 0x-prefixed. */
  readonly rawTransaction: string
  /** Its hash (the `txHash` of the API), 0x-prefixed. */
  readonly txHash: string
}

/**
 * An EIP-1559 transfer of `asset` (chain id from the registry, gas limit 21000, no data). Field limits are
 * micro-eth-signer's strict ones (fee caps below 10,000 gwei, value below 1M ether, sane nonce).
 */
export function buildEvmTransfer(asset: ChainAsset, request: EvmTransferRequest): UnsignedEvmTransfer {
  if (asset.chain !== 'evm')
    throw new ChainError('CS_CHAIN_TRANSACTION_INVALID', `${asset.id} is not an EVM asset`, {
      field: 'assetId',
    })
  const from = requireAddress(asset, request.from, 'source address')
  const to = requireAddress(asset, request.to, 'destination address')
  let transaction: Encodable
  try {
    transaction = Transaction.prepare({
      type: 'eip1559',
      chainId: asset.chainId,
      nonce: request.nonce,
      to,
      value: request.value,
      maxFeePerGas: request.maxFeePerGas,
      maxPriorityFeePerGas: request.maxPriorityFeePerGas,
      gasLimit: TRANSFER_GAS_LIMIT,
    })
  } catch (cause) {
    throw new ChainError(
      'CS_CHAIN_TRANSACTION_INVALID',
      `${asset.id} transfer refused: ${messageOf(cause)}`,
      {
        cause,
      },
    )
  }
  return { from, unsignedTransaction: transaction.toHex(), signingHash: signingHashOf(transaction) }
}

/**
 * The transfer with its signature attached. Refuses a signature that does not recover to the sender (a
 * wrong recovery id included), so a broadcast can never spend from, or fail for, another key.
 */
export function attachEvmSignature(
  unsigned: UnsignedEvmTransfer,
  signature: RawSignature,
): SignedEvmTransfer {
  // The digest is computed again from the transaction itself: a stored hash is never taken on trust.
  const { transaction, raw } = eip1559(unsigned.unsignedTransaction)
  const recovered = recoverEvmAddress(signingHashOf(transaction), signature)
  if (recovered !== unsigned.from)
    throw new ChainError(
      'CS_CHAIN_SIGNATURE_INVALID',
      `the signature recovers to ${recovered}, not to the sender ${unsigned.from}`,
    )
  const signed = new Transaction(
    'eip1559',
    {
      ...raw,
      r: scalar(signature.compact.slice(0, 32)),
      s: scalar(signature.compact.slice(32)),
      yParity: signature.recovery as number,
    },
    { strict: false },
  )
  return { rawTransaction: signed.toHex(), txHash: signed.hash }
}

type Eip1559Fields = ConstructorParameters<typeof Transaction<'eip1559'>>[1]

function eip1559(unsignedTransaction: string) {
  let transaction
  try {
    transaction = Transaction.fromHex(unsignedTransaction)
  } catch (cause) {
    throw new ChainError('CS_CHAIN_TRANSACTION_INVALID', 'not an encoded EVM transaction', { cause })
  }
  if (transaction.type !== 'eip1559' || transaction.isSigned)
    throw new ChainError('CS_CHAIN_TRANSACTION_INVALID', 'not an unsigned EIP-1559 transaction')
  return { transaction, raw: transaction.raw as Eip1559Fields }
}

/** What micro-eth-signer's transactions of every type share, and all the signing hash needs. */
interface Encodable {
  toBytes(options: { includeSignature: boolean }): Uint8Array
  toHex(): string
}

/** The digest the sender signs (micro-eth-signer keeps its own private): keccak256 of the unsigned encoding. */
const signingHashOf = (transaction: Encodable): string =>
  bytesToHex(keccak_256(transaction.toBytes({ includeSignature: false })))

const scalar = (bytes: Uint8Array): bigint => BigInt('0x' + bytesToHex(bytes))

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error))
