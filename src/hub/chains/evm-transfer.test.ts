import { secp256k1 } from '@noble/curves/secp256k1.js'
import { keccak256, parseTransaction, recoverTransactionAddress, serializeTransaction } from 'viem'
import { describe, expect, it } from 'vitest'
import {
  addressOf,
  assetRegistry,
  attachEvmSignature,
  buildEvmTransfer,
  parseAmount,
  type EvmTransferRequest,
  type RawSignature,
} from './index.js'

const registry = assetRegistry()
const ETH = registry.get('ETH_TEST6')!
const DEAD = '0x000000000000000000000000000000000000dEaD'
const GWEI = 10n ** 9n

/** A plain secp256k1 key stands in for the threshold key of the vault address. */
const secret = secp256k1.utils.randomSecretKey()
const from = addressOf(ETH, secp256k1.getPublicKey(secret))

const request: EvmTransferRequest = {
  from,
  to: DEAD.toLowerCase(),
  value: parseAmount(ETH, '0.001'),
  nonce: 5n,
  maxFeePerGas: 30n * GWEI,
  maxPriorityFeePerGas: 2n * GWEI,
}

function sign(key: Uint8Array, digestHex: string): Required<RawSignature> {
  const bytes = secp256k1.sign(Buffer.from(digestHex, 'hex'), key, { prehash: false, format: 'recovered' })
  const signature = secp256k1.Signature.fromBytes(bytes, 'recovered')
  return { compact: signature.toBytes('compact'), recovery: signature.recovery as number }
}

describe('EIP-1559 transfer', () => {
  it('signs the digest viem computes for the same unsigned transaction', () => {
    const unsigned = buildEvmTransfer(ETH, request)
    const viemUnsigned = serializeTransaction({
      type: 'eip1559',
      chainId: 560048,
      nonce: 5,
      to: DEAD,
      value: request.value,
      maxFeePerGas: request.maxFeePerGas,
      maxPriorityFeePerGas: request.maxPriorityFeePerGas,
      gas: 21_000n,
    })
    expect(unsigned.unsignedTransaction).toBe(viemUnsigned)
    expect(`0x${unsigned.signingHash}`).toBe(keccak256(viemUnsigned))
    expect(unsigned.signingHash).toMatch(/^[0-9a-f]{64}$/)
  })

  it('round trip: viem parses the raw transaction and recovers the sender from it', async () => {
    const unsigned = buildEvmTransfer(ETH, request)
    const signed = attachEvmSignature(unsigned, sign(secret, unsigned.signingHash))
    const parsed = parseTransaction(signed.rawTransaction as `0x${string}`)
    expect(parsed).toMatchObject({
      type: 'eip1559',
      chainId: 560048,
      nonce: 5,
      to: DEAD.toLowerCase(),
      value: 10n ** 15n,
      gas: 21_000n,
      maxFeePerGas: 30n * GWEI,
      maxPriorityFeePerGas: 2n * GWEI,
    })
    expect(
      await recoverTransactionAddress({ serializedTransaction: signed.rawTransaction as `0x02${string}` }),
    ).toBe(from)
    expect(signed.txHash).toBe(keccak256(signed.rawTransaction as `0x${string}`))
  })

  it('signs the configured chain id into the transaction', () => {
    const sepolia = assetRegistry({ evmChainId: 11155111n }).get('ETH_TEST6')!
    const unsigned = buildEvmTransfer(sepolia, request)
    const signed = attachEvmSignature(unsigned, sign(secret, unsigned.signingHash))
    expect(parseTransaction(signed.rawTransaction as `0x${string}`).chainId).toBe(11155111)
    expect(unsigned.signingHash).not.toBe(buildEvmTransfer(ETH, request).signingHash)
  })

  it('refuses a signature by another key, with the wrong recovery id, or high-S', () => {
    const unsigned = buildEvmTransfer(ETH, request)
    const good = sign(secret, unsigned.signingHash)
    const N = secp256k1.Point.Fn.ORDER
    const s = secp256k1.Point.Fn.fromBytes(good.compact.slice(32))
    const malleated = {
      compact: Uint8Array.from([...good.compact.slice(0, 32), ...secp256k1.Point.Fn.toBytes(N - s)]),
      recovery: good.recovery ^ 1,
    }
    for (const signature of [
      sign(secp256k1.utils.randomSecretKey(), unsigned.signingHash),
      { ...good, recovery: good.recovery ^ 1 },
      malleated,
    ])
      expect(() => attachEvmSignature(unsigned, signature)).toThrow(
        expect.objectContaining({ code: 'CS_CHAIN_SIGNATURE_INVALID' }),
      )
  })

  it('recomputes the digest from the stored transaction: a signature for other terms does not attach', () => {
    const unsigned = buildEvmTransfer(ETH, request)
    const other = buildEvmTransfer(ETH, { ...request, value: parseAmount(ETH, '5') })
    expect(() =>
      attachEvmSignature({ ...unsigned, signingHash: other.signingHash }, sign(secret, other.signingHash)),
    ).toThrow(expect.objectContaining({ code: 'CS_CHAIN_SIGNATURE_INVALID' }))
    expect(() =>
      attachEvmSignature({ ...unsigned, unsignedTransaction: '0x02ff' }, sign(secret, unsigned.signingHash)),
    ).toThrow(expect.objectContaining({ code: 'CS_CHAIN_TRANSACTION_INVALID' }))
  })

  it('refuses bad terms: another chain family, a bad address, absurd fees', () => {
    const refusals: [Parameters<typeof buildEvmTransfer>, string, RegExp][] = [
      [[registry.get('BTC_TEST')!, request], 'CS_CHAIN_TRANSACTION_INVALID', /BTC_TEST is not an EVM asset/],
      [[ETH, { ...request, to: '0xdead' }], 'CS_CHAIN_ADDRESS_INVALID', /destination address/],
      [
        [ETH, { ...request, to: DEAD.replace('E', 'e').replace('a', 'A') }],
        'CS_CHAIN_ADDRESS_INVALID',
        /checksum/,
      ],
      [
        [ETH, { ...request, from: 'tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx' }],
        'CS_CHAIN_ADDRESS_INVALID',
        /source address/,
      ],
      [
        [ETH, { ...request, maxFeePerGas: 20_000n * GWEI }],
        'CS_CHAIN_TRANSACTION_INVALID',
        /ETH_TEST6 transfer refused/,
      ],
      [[ETH, { ...request, maxFeePerGas: 0n }], 'CS_CHAIN_TRANSACTION_INVALID', /transfer refused/],
      [[ETH, { ...request, nonce: -1n }], 'CS_CHAIN_TRANSACTION_INVALID', /transfer refused/],
    ]
    for (const [args, code, message] of refusals)
      expect(() => buildEvmTransfer(...args)).toThrow(
        expect.objectContaining({ code, message: expect.stringMatching(message) }),
      )
  })
})
