import { keccak256, parseEther, parseGwei, serializeTransaction, type Address } from 'viem'

export interface UnsignedEthTransfer {
  /** RLP of the unsigned EIP-1559 transaction, hex without `0x`, as the co-signer sends it in `rawTx`. */
  readonly rawTx: string
  /** keccak-256 of `rawTx`: the 32-byte digest the co-signer actually signs, hex without `0x`. */
  readonly payload: string
  /** The fee at the maximum fee per gas, in ETH, as the signing-stage `fee` field carries it. */
  readonly fee: string
}

const GAS_LIMIT = 21_000n
const MAX_FEE_PER_GAS = parseGwei('30')

/** A real unsigned EIP-1559 mainnet transfer, so a handler can decode `rawTx` and recompute `payload`. */
export function unsignedEthTransfer(to: Address, amountEth: string, nonce: number): UnsignedEthTransfer {
  const serialized = serializeTransaction({
    type: 'eip1559',
    chainId: 1,
    nonce,
    to,
    value: parseEther(amountEth),
    gas: GAS_LIMIT,
    maxFeePerGas: MAX_FEE_PER_GAS,
    maxPriorityFeePerGas: parseGwei('1.5'),
  })
  const feeWei = GAS_LIMIT * MAX_FEE_PER_GAS
  return {
    rawTx: serialized.slice(2),
    payload: keccak256(serialized).slice(2),
    fee: (Number(feeWei) / 1e18).toFixed(18),
  }
}
