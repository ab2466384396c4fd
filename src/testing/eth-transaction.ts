import { keccak_256 } from '@noble/hashes/sha3.js'
import { Transaction, weieth, weigwei } from 'micro-eth-signer'

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
