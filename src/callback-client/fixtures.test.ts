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
import { p2pkhAddress } from './btc-transaction.js'
import { FIXTURE_NAMES, buildFixture, configFixtureName, multiDestinationPayload } from './index.js'

describe('fixture builders', () => {
  it('offers the five transfers and one fixture per config-change type', () => {
    expect(FIXTURE_NAMES).toEqual([
      'eth-transfer',
      'eth-transfer-approval',
      'btc-transfer',
      'multi-destination',
      'exchange-source',
      ...CONFIG_CHANGE_TYPES.map(configFixtureName),
    ])
    expect(FIXTURE_NAMES).toContain('unmanaged-wallet')
    expect(FIXTURE_NAMES).toContain('set-network-connection-routing-policy')
  })

  it.each(FIXTURE_NAMES)('%s satisfies the wire schema of its route', (name) => {
    const { route, payload } = buildFixture(name)
    if (route === 'tx') expect(parseTxRequest(payload).txId).toBe(payload.requestId)
    else expect(CONFIG_CHANGE_TYPES).toContain(parseConfigChangeRequest(payload).type)
  })

  it('gives every build a fresh requestId unless one is asked for', () => {
    const first = buildFixture('eth-transfer').payload
    const second = buildFixture('eth-transfer').payload
    expect(first.requestId).not.toBe(second.requestId)
    const pinned = buildFixture('eth-transfer', { requestId: 'req-7', signerId: 'api-user-2' }).payload
    expect(pinned).toMatchObject({ requestId: 'req-7', txId: 'req-7', signerId: 'api-user-2' })
  })

  it('refuses an unknown fixture name and lists the known ones', () => {
    expect(() => buildFixture('doge-transfer')).toThrow(
      /unknown fixture "doge-transfer"; choose one of: eth-transfer,/,
    )
  })

  it('reads the signing stage for eth-transfer and btc-transfer, the approval stage for the others', () => {
    const kinds = Object.fromEntries(
      ['eth-transfer', 'eth-transfer-approval', 'btc-transfer', 'multi-destination', 'exchange-source'].map(
        (name) => [name, txRequestKind(parseTxRequest(buildFixture(name).payload))],
      ),
    )
    expect(kinds).toEqual({
      'eth-transfer': RequestKind.txSigning,
      'eth-transfer-approval': RequestKind.txApproval,
      'btc-transfer': RequestKind.txSigning,
      'multi-destination': RequestKind.txApproval,
      'exchange-source': RequestKind.txApproval,
    })
  })
})

describe('eth-transfer: a real unsigned EIP-1559 transaction', () => {
  const payload = parseTxRequest(buildFixture('eth-transfer').payload)
  const [entry] = payload.rawTx!

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
    expect(entry!.payload).toMatch(/^[0-9a-f]{64}$/)
  })
})

describe('btc-transfer: legacy sighash preimages', () => {
  const payload = parseTxRequest(buildFixture('btc-transfer').payload)
  const sha256 = (data: Buffer) => createHash('sha256').update(data).digest()

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
    expect(payload.destAddress).toBe(p2pkhAddress('76a04053bda0a88bda5177b86a15c3b29f559873'))
    expect(payload.rawTx![0]!.rawTx).toContain('1976a91476a04053bda0a88bda5177b86a15c3b29f55987388ac')
  })

  it('encodes Base58Check addresses to known vectors', () => {
    expect(p2pkhAddress('010966776006953d5567439e5e39f86a0d273bee')).toBe('16UwLL9Risc3QfPqBUvKofHmBQ7wMtjvM')
    expect(p2pkhAddress('0'.repeat(40))).toBe('1111111111111111111114oLvT2')
  })
})

describe('multi-destination', () => {
  it('builds any number of destinations whose amounts add up', () => {
    const payload = parseTxRequest(multiDestinationPayload(50))
    expect(payload.destinations).toHaveLength(50)
    const sum = payload.destinations.reduce(
      (total, destination) => total + Number(destination.amountNativeStr),
      0,
    )
    expect(String(sum)).toBe(payload.amountStr)
  })
})
