import { createHash } from 'node:crypto'
import { keccak256, parseEther, parseTransaction } from 'viem'
import { describe, expect, it } from 'vitest'
import {
  CONFIG_CHANGE_TYPES,
  RequestKind,
  parseConfigChangeRequest,
  parseTxRequest,
  txRequestKind,
} from '../protocol/index.js'
import {
  CONFIG_FIXTURES,
  FIXTURE_NAMES,
  TX_FIXTURES,
  buildFixture,
  configChangePayload,
  configFixtureName,
  loadTxFixture,
  multiDestinationPayload,
  p2pkhAddress,
  unsignedBtcTransfer,
  unsignedEthTransfer,
} from './index.js'

describe('the fixture corpus', () => {
  it('holds five transfers and one fixture per config-change type', () => {
    expect(TX_FIXTURES).toEqual([
      'btc-one-time-address',
      'eth-transfer-approval',
      'eth-transfer-signing',
      'exchange-source',
      'multi-destination',
    ])
    expect(CONFIG_FIXTURES).toEqual(CONFIG_CHANGE_TYPES.map(configFixtureName).sort())
    expect(FIXTURE_NAMES).toEqual([...TX_FIXTURES, ...CONFIG_FIXTURES])
  })

  it.each(FIXTURE_NAMES)('%s satisfies the wire schema of its route', (name) => {
    const { route, payload } = buildFixture(name)
    if (route === 'tx') expect(parseTxRequest(payload).txId).toBe(payload.requestId)
    else expect(CONFIG_CHANGE_TYPES).toContain(parseConfigChangeRequest(payload).type)
  })

  it('reads the signing stage for the two signing fixtures, the approval stage for the others', () => {
    const kinds = Object.fromEntries(
      TX_FIXTURES.map((name) => [name, txRequestKind(parseTxRequest(loadTxFixture(name)))]),
    )
    expect(kinds).toEqual({
      'btc-one-time-address': RequestKind.txSigning,
      'eth-transfer-approval': RequestKind.txApproval,
      'eth-transfer-signing': RequestKind.txSigning,
      'exchange-source': RequestKind.txApproval,
      'multi-destination': RequestKind.txApproval,
    })
  })
})

describe('requests built from the corpus', () => {
  it('gives every build a fresh requestId and txId unless one is asked for', () => {
    const stored = loadTxFixture('eth-transfer-signing')
    const first = buildFixture('eth-transfer-signing').payload
    const second = buildFixture('eth-transfer-signing').payload
    expect(first.requestId).not.toBe(second.requestId)
    expect(first.requestId).not.toBe(stored.requestId)
    expect(first.txId).toBe(first.requestId)
    const pinned = buildFixture('eth-transfer-signing', {
      requestId: 'req-7',
      signerId: 'api-user-2',
    }).payload
    expect(pinned).toEqual({ ...stored, requestId: 'req-7', txId: 'req-7', signerId: 'api-user-2' })
  })

  it('gives a config change a fresh requestId and no txId', () => {
    const payload = configChangePayload('ADD_USER', { signerId: 'api-user-2' })
    expect(payload).toMatchObject({ type: 'ADD_USER', signerId: 'api-user-2' })
    expect(payload).not.toHaveProperty('txId')
    expect(payload.requestId).not.toBe(configChangePayload('ADD_USER').requestId)
  })

  it('refuses an unknown fixture name and lists the known ones', () => {
    expect(() => buildFixture('doge-transfer')).toThrow(
      /unknown fixture "doge-transfer"; choose one of: btc-one-time-address,/,
    )
  })

  it('builds any number of destinations whose amounts add up', () => {
    const payload = parseTxRequest(multiDestinationPayload(50))
    expect(payload.destinations).toHaveLength(50)
    expect(new Set(payload.destinations.map((destination) => destination.dstId)).size).toBe(50)
    const sum = payload.destinations.reduce(
      (total, destination) => total + Number(destination.amountNativeStr),
      0,
    )
    expect(String(sum)).toBe(payload.amountStr)
  })
})

describe('eth-transfer-signing: a real unsigned EIP-1559 transaction', () => {
  const payload = parseTxRequest(loadTxFixture('eth-transfer-signing'))
  const [entry] = payload.rawTx!

  it('is what the EIP-1559 builder produces for its destination and amount', () => {
    const built = unsignedEthTransfer(payload.destAddress, payload.requestedAmountStr!, 4)
    expect(entry).toMatchObject({ rawTx: built.rawTx, payload: built.payload })
    expect(payload.fee).toBe(built.fee)
  })

  it('decodes to the destination and amount the payload states', () => {
    const tx = parseTransaction(`0x${entry!.rawTx}`)
    expect(tx.type).toBe('eip1559')
    expect(tx.chainId).toBe(1)
    expect(tx.to?.toLowerCase()).toBe(payload.destAddress.toLowerCase())
    expect(tx.value).toBe(parseEther(payload.amountStr))
    expect('r' in tx && tx.r !== undefined).toBe(false)
  })

  it('carries the keccak-256 of rawTx as the digest to sign', () => {
    expect(entry!.payload).toBe(keccak256(`0x${entry!.rawTx}`).slice(2))
  })
})

describe('btc-one-time-address: legacy sighash preimages', () => {
  const payload = parseTxRequest(loadTxFixture('btc-one-time-address'))
  const sha256 = (data: Buffer) => createHash('sha256').update(data).digest()
  const source = '759d6677091e973b9e9d99f19c68fbf43e3f05f9'
  const destination = '76a04053bda0a88bda5177b86a15c3b29f559873'

  it('is what the BTC builder produces for two inputs, the payout and the change', () => {
    const built = unsignedBtcTransfer(
      [
        {
          txid: 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90',
          vout: 0,
          ownerHash160: source,
        },
        {
          txid: '0b1c2d3e4f5061728394a5b6c7d8e9f00b1c2d3e4f5061728394a5b6c7d8e9f0',
          vout: 1,
          ownerHash160: source,
        },
      ],
      [
        { hash160: destination, sats: 8_450_000n },
        { hash160: source, sats: 10_000n },
      ],
    )
    expect(payload.rawTx!.map(({ rawTx, payload: digest }) => ({ rawTx, payload: digest }))).toEqual(
      built.rawTx,
    )
  })

  it('has one entry per input, each payload the double SHA-256 of its preimage ending in SIGHASH_ALL', () => {
    expect(payload.rawTx).toHaveLength(2)
    for (const entry of payload.rawTx!) {
      const preimage = Buffer.from(entry.rawTx, 'hex')
      expect(preimage.subarray(-4).toString('hex')).toBe('01000000')
      expect(entry.payload).toBe(sha256(sha256(preimage)).toString('hex'))
    }
    expect(payload.rawTx![0]!.rawTx).not.toBe(payload.rawTx![1]!.rawTx)
  })

  it('pays the destination address named in the payload', () => {
    expect(payload.destAddress).toBe(p2pkhAddress(destination))
    expect(payload.rawTx![0]!.rawTx).toContain(`1976a914${destination}88ac`)
  })

  it('encodes Base58Check addresses to known vectors', () => {
    expect(p2pkhAddress('010966776006953d5567439e5e39f86a0d273bee')).toBe('16UwLL9Risc3QfPqBUvKofHmBQ7wMtjvM')
    expect(p2pkhAddress('0'.repeat(40))).toBe('1111111111111111111114oLvT2')
  })
})
