import { createHash } from 'node:crypto'

/**
 * A legacy (P2PKH) Bitcoin transfer as the co-signer presents it at signing: one `rawTx` entry per input,
 * each the SIGHASH_ALL preimage for that input (the transaction with that input's scriptSig replaced by
 * the spent scriptPubKey, the others empty, then the 4-byte sighash type), and `payload` its double
 * SHA-256 (protocol.md §2.3, the D-BTC guide).
 */
export interface BtcInput {
  /** Previous transaction id as displayed (big-endian hex). */
  readonly txid: string
  readonly vout: number
  /** hash160 of the public key that owns the spent output. */
  readonly ownerHash160: string
}

export interface BtcOutput {
  readonly hash160: string
  readonly sats: bigint
}

export interface UnsignedBtcTransfer {
  readonly rawTx: readonly { readonly rawTx: string; readonly payload: string }[]
}

const SIGHASH_ALL = 1

export function unsignedBtcTransfer(
  inputs: readonly BtcInput[],
  outputs: readonly BtcOutput[],
): UnsignedBtcTransfer {
  return {
    rawTx: inputs.map((_, signing) => {
      const preimage = Buffer.concat([
        u32(1),
        varInt(inputs.length),
        ...inputs.map((input, index) =>
          Buffer.concat([
            Buffer.from(input.txid, 'hex').reverse(),
            u32(input.vout),
            index === signing ? withLength(p2pkhScript(input.ownerHash160)) : varInt(0),
            u32(0xffffffff),
          ]),
        ),
        varInt(outputs.length),
        ...outputs.map((output) =>
          Buffer.concat([u64(output.sats), withLength(p2pkhScript(output.hash160))]),
        ),
        u32(0),
        u32(SIGHASH_ALL),
      ])
      return { rawTx: preimage.toString('hex'), payload: sha256(sha256(preimage)).toString('hex') }
    }),
  }
}

/** The Base58Check P2PKH mainnet address of a hash160, as `destAddress` shows it. */
export function p2pkhAddress(hash160: string): string {
  const versioned = Buffer.concat([Buffer.from([0x00]), Buffer.from(hash160, 'hex')])
  const bytes = Buffer.concat([versioned, sha256(sha256(versioned)).subarray(0, 4)])
  const alphabet = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
  let value = BigInt(`0x${bytes.toString('hex')}`)
  let encoded = ''
  while (value > 0n) {
    encoded = alphabet[Number(value % 58n)]! + encoded
    value /= 58n
  }
  const leadingZeros = bytes.findIndex((byte) => byte !== 0)
  return '1'.repeat(leadingZeros) + encoded
}

function p2pkhScript(hash160: string): Buffer {
  // OP_DUP OP_HASH160 <20 bytes> OP_EQUALVERIFY OP_CHECKSIG
  return Buffer.concat([
    Buffer.from([0x76, 0xa9, 0x14]),
    Buffer.from(hash160, 'hex'),
    Buffer.from([0x88, 0xac]),
  ])
}

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest()
}

function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4)
  buffer.writeUInt32LE(value)
  return buffer
}

function u64(value: bigint): Buffer {
  const buffer = Buffer.alloc(8)
  buffer.writeBigUInt64LE(value)
  return buffer
}

/** Scripts here are far below 253 bytes, so a one-byte CompactSize is always enough. */
function varInt(value: number): Buffer {
  return Buffer.from([value])
}

function withLength(script: Buffer): Buffer {
  return Buffer.concat([varInt(script.length), script])
}
