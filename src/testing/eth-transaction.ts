import { keccak_256 } from '@noble/hashes/sha3.js'
import { addr, Transaction, weieth, weigwei } from 'micro-eth-signer'

export interface UnsignedEthTransfer {
  /** RLP of the unsigned EIP-1559 transaction, hex without `0x`, as the co-signer sends it in `rawTx`. */
  readonly rawTx: string
  /** keccak-256 of `rawTx`: the 32-byte digest the co-signer actually signs, hex without `0x`. */
  readonly payload: string
  /** The fee at the maximum fee per gas, in ETH, as the signing-stage `fee` field carries it. */
  readonly fee: string
}

/** Wei in ETH with all 18 decimals written out, as the signing-stage `fee` of an EVM transfer reads. */
function ethWithAllDecimals(wei: bigint): string {
  const [whole, fraction = ''] = weieth.encode(wei).split('.')
  return `${whole}.${fraction.padEnd(18, '0')}`
}

/**
 * A real unsigned EIP-1559 mainnet transfer, so a handler can decode `rawTx` and recompute `payload`.
 * `micro-eth-signer` (a few MB, on `@noble/*`) builds it; a full EVM client library would add 80 MB to
 * every install for this one fixture.
 */
export function unsignedEthTransfer(to: string, amountEth: string, nonce: number): UnsignedEthTransfer {
  const transaction = Transaction.prepare({
    chainId: 1n,
    nonce: BigInt(nonce),
    to,
    value: weieth.decode(amountEth),
    gasLimit: 21_000n,
    maxFeePerGas: weigwei.decode('30'),
    maxPriorityFeePerGas: weigwei.decode('1.5'),
  })
  const serialized = transaction.toBytes({ includeSignature: false })
  return {
    rawTx: Buffer.from(serialized).toString('hex'),
    payload: Buffer.from(keccak_256(serialized)).toString('hex'),
    fee: ethWithAllDecimals(transaction.fee),
  }
}

/** A signed EVM transaction as read back: who signed it (recovered from its signature), and what it does. */
export interface SignedEthTransaction {
  /** The checksummed address its signature recovers to. */
  readonly from: string
  readonly to: string
  readonly value: bigint
  readonly chainId: bigint
  readonly nonce: bigint
  /** keccak-256 of the signed bytes, `0x`-prefixed: the hash block explorers show. */
  readonly hash: string
}

/** Decodes a signed EIP-1559 transaction (hex, with or without `0x`) and recovers its signer. */
export function readSignedEthTransaction(hex: string): SignedEthTransaction {
  const transaction = Transaction.fromHex(hex)
  if (transaction.type !== 'eip1559') throw new Error(`a ${transaction.type} transaction, not EIP-1559`)
  const { to, value, chainId, nonce } = transaction.raw as {
    to: string
    value: bigint
    chainId: bigint
    nonce: bigint
  }
  return { from: transaction.sender, to, value, chainId, nonce, hash: transaction.hash }
}

/** The checksummed Ethereum address of a secp256k1 public key (hex, compressed or not). */
export function ethAddressOf(publicKeyHex: string): string {
  return addr.fromPublicKey(publicKeyHex)
}
