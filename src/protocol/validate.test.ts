import { describe, expect, it } from 'vitest'
import { CONFIG_FIXTURES, TX_FIXTURES, loadConfigFixture, loadTxFixture } from '../testing/index.js'
import {
  CONFIG_CHANGE_TYPES,
  PayloadInvalid,
  RequestKind,
  isActionAllowed,
  parseConfigChangeRequest,
  parseTxRequest,
  txRequestKind,
  parseCapturedRule,
} from './index.js'

describe('transaction request schema', () => {
  it.each(TX_FIXTURES)('accepts the fixture %s', (name) => {
    const request = parseTxRequest(loadTxFixture(name))
    expect(request.requestId).toMatch(/.+/)
  })

  it('keeps unknown fields, top level and nested, instead of dropping them', () => {
    const payload = loadTxFixture('eth-transfer-approval')
    payload.newVendorField = { added: '2026' }
    ;(payload.destinations as Record<string, unknown>[])[0]!.travelRule = 'TRUST'
    const request = parseTxRequest(payload) as Record<string, unknown>
    expect(request.newVendorField).toEqual({ added: '2026' })
    expect((request.destinations as Record<string, unknown>[])[0]!.travelRule).toBe('TRUST')
  })

  it('rejects a payload without requestId and names the field', () => {
    const payload = loadTxFixture('eth-transfer-approval')
    delete payload.requestId
    const error = (() => {
      try {
        parseTxRequest(payload)
      } catch (caught) {
        return caught
      }
      return undefined
    })()
    expect(error).toBeInstanceOf(PayloadInvalid)
    expect((error as PayloadInvalid).code).toBe('CS_PAYLOAD_INVALID')
    expect((error as PayloadInvalid).issues.join()).toContain('requestId')
    expect((error as PayloadInvalid).requestId).toBeUndefined()
  })

  it('reports the requestId of an otherwise malformed payload so it can be answered', () => {
    const payload = loadTxFixture('multi-destination')
    payload.amountStr = '-5'
    expect(() => parseTxRequest(payload)).toThrow(PayloadInvalid)
    try {
      parseTxRequest(payload)
    } catch (error) {
      expect((error as PayloadInvalid).requestId).toBe(payload.requestId)
      expect((error as PayloadInvalid).issues.join()).toContain('amountStr')
    }
  })

  it('parses deprecated floats written with trailing zeros, and keeps the exact strings for decisions', () => {
    const token = '{"amount":0.01000000,"amountStr":"0.010000000000000000"}'
    const parsed = JSON.parse(token) as { amount: number; amountStr: string }
    const payload = { ...loadTxFixture('eth-transfer-approval'), ...parsed }
    const request = parseTxRequest(payload)
    expect(request.amount).toBe(0.01)
    expect(request.amountStr).toBe('0.010000000000000000')
  })

  it('accepts keyDerivationPath as a string or as an array, and nothing else', () => {
    const payload = loadTxFixture('eth-transfer-signing')
    const rawTx = payload.rawTx as Record<string, unknown>[]
    rawTx[0]!.keyDerivationPath = [44, 60, 0, 0, 0]
    expect(parseTxRequest(payload).rawTx?.[0]?.keyDerivationPath).toEqual([44, 60, 0, 0, 0])
    rawTx[0]!.keyDerivationPath = 44
    expect(() => parseTxRequest(payload)).toThrow(PayloadInvalid)
  })

  it('decodes capturedRule, a JSON string, leniently', () => {
    const request = parseTxRequest(loadTxFixture('eth-transfer-approval'))
    expect(parseCapturedRule(request.destinations[0]!.actionInfo)).toMatchObject({
      action: 'ALLOW',
      amount: '0',
    })
    expect(parseCapturedRule({ capturedRule: '{not json' })).toBeUndefined()
  })
})

describe('request kind', () => {
  it('reads the approval stage when no signing-only field is present', () => {
    expect(txRequestKind(parseTxRequest(loadTxFixture('eth-transfer-approval')))).toBe(RequestKind.txApproval)
    expect(txRequestKind(parseTxRequest(loadTxFixture('exchange-source')))).toBe(RequestKind.txApproval)
  })

  it.each([
    ['fee', (p: Record<string, unknown>) => (p.fee = '0.0001')],
    [
      'rawTx',
      (p: Record<string, unknown>) => (p.rawTx = [{ keyDerivationPath: '[44]', rawTx: '00', payload: '00' }]),
    ],
    [
      'displayDstAddress',
      (p: Record<string, unknown>) =>
        ((p.destinations as Record<string, unknown>[])[0]!.displayDstAddress = '0x5dC6…d5f8'),
    ],
  ])('reads the signing stage from %s alone', (_field, add) => {
    const payload = loadTxFixture('eth-transfer-approval')
    add(payload)
    expect(txRequestKind(parseTxRequest(payload))).toBe(RequestKind.txSigning)
  })

  it('never allows IGNORE for a signing request, and allows it for approvals', () => {
    expect(isActionAllowed(RequestKind.txSigning, 'IGNORE')).toBe(false)
    expect(isActionAllowed(RequestKind.txSigning, 'REJECT')).toBe(true)
    expect(isActionAllowed(RequestKind.txApproval, 'IGNORE')).toBe(true)
    expect(isActionAllowed(RequestKind.configChange, 'IGNORE')).toBe(true)
  })
})

describe('configuration-change schema', () => {
  it('has one fixture per documented type', () => {
    const types = CONFIG_FIXTURES.map((name) => loadConfigFixture(name).type).sort()
    expect(types).toEqual([...CONFIG_CHANGE_TYPES].sort())
  })

  it.each(CONFIG_FIXTURES)('accepts the fixture %s', (name) => {
    expect(parseConfigChangeRequest(loadConfigFixture(name)).type).toBe(loadConfigFixture(name).type)
  })

  it('refuses an unknown type rather than guessing', () => {
    const payload = { ...loadConfigFixture('add-user'), type: 'DELETE_EVERYTHING' }
    expect(() => parseConfigChangeRequest(payload)).toThrow(/type/)
  })

  it('checks typed extraInfo: a whitelisting without an address is invalid', () => {
    const payload = loadConfigFixture('unmanaged-wallet')
    delete (payload.extraInfo as Record<string, unknown>).address
    expect(() => parseConfigChangeRequest(payload)).toThrow(/extraInfo\.address/)
  })

  it('keeps unknown extraInfo fields', () => {
    const payload = loadConfigFixture('unmanaged-wallet')
    ;(payload.extraInfo as Record<string, unknown>).riskScore = 3
    expect(parseConfigChangeRequest(payload).extraInfo).toMatchObject({ riskScore: 3 })
  })
})
