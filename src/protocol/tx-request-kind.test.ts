import { describe, expect, it } from 'vitest'
import { loadTxFixture } from '../testing/index.js'
import { RequestKind, parseTxRequest, txRequestKind } from './index.js'

/** Issue 11 item 11: a request is the approval stage only when unambiguously one; otherwise signing. */
describe('request classification fails closed', () => {
  function signingStripped(): Record<string, unknown> {
    const payload = loadTxFixture('eth-transfer-signing')
    delete payload.fee
    delete payload.rawTx
    for (const destination of payload.destinations as Record<string, unknown>[]) {
      delete destination.displayDstAddress
    }
    return payload
  }

  it.each(['action', 'actionInfo'])(
    'reads a request whose destination lacks %s as signing, even without signing-only fields',
    (field) => {
      const payload = signingStripped()
      delete (payload.destinations as Record<string, unknown>[])[0]![field]
      expect(txRequestKind(parseTxRequest(payload))).toBe(RequestKind.txSigning)
    },
  )

  it('reads one destination without a policy verdict among several as signing', () => {
    const payload = loadTxFixture('multi-destination')
    delete (payload.destinations as Record<string, unknown>[])[1]!.action
    expect(txRequestKind(parseTxRequest(payload))).toBe(RequestKind.txSigning)
  })

  it.each(['RAW', 'TYPED_MESSAGE'])('reads a %s request without a fee as signing', (operation) => {
    const payload = { ...signingStripped(), operation }
    expect(txRequestKind(parseTxRequest(payload))).toBe(RequestKind.txSigning)
  })

  it('reads an empty signing-only field as signing: presence, not content, decides', () => {
    expect(txRequestKind(parseTxRequest({ ...signingStripped(), fee: '' }))).toBe(RequestKind.txSigning)
    expect(txRequestKind(parseTxRequest({ ...signingStripped(), rawTx: [] }))).toBe(RequestKind.txSigning)
  })

  it('still reads a complete approval-stage request as the approval stage', () => {
    expect(txRequestKind(parseTxRequest(signingStripped()))).toBe(RequestKind.txApproval)
    expect(txRequestKind(parseTxRequest(loadTxFixture('multi-destination')))).toBe(RequestKind.txApproval)
  })
})
