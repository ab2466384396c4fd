import { describe, expect, it } from 'vitest'
import { canonicalJson } from '../core/index.js'
import { loadTxFixture } from '../testing/index.js'
import {
  MAX_IDENTIFIER_LENGTH,
  PayloadInvalid,
  identifierProblem,
  parseTxRequest,
  recordableJson,
} from './index.js'

describe('identifiers', () => {
  it('accept UUIDs, short ids and any well-formed text up to the limit', () => {
    for (const id of [
      '3f2c1d4e-5b6a-4c8d-9e0f-1a2b3c4d5e6f',
      '42',
      'vault é 😀',
      'x'.repeat(MAX_IDENTIFIER_LENGTH),
    ])
      expect(identifierProblem(id), id).toBeUndefined()
  })

  it.each([
    ['', 'is empty'],
    ['x'.repeat(MAX_IDENTIFIER_LENGTH + 1), 'more than the limit of 256'],
    ['abc\ud800', 'lone UTF-16 surrogate'],
    ['\udfffabc', 'lone UTF-16 surrogate'],
    ['a\u0000b', 'U+0000'],
    ['a\nb', 'U+000A'],
    ['a\u007fb', 'U+007F'],
    ['a\u0085b', 'U+0085'],
  ])('refuse %j, naming why', (id, reason) => {
    expect(identifierProblem(id)).toContain(reason)
  })

  it('are checked by the payload schemas', () => {
    const payload = { ...loadTxFixture('eth-transfer-signing'), txId: 'tx\u0000' }
    expect(() => parseTxRequest(payload)).toThrow(PayloadInvalid)
    expect(() => parseTxRequest(payload)).toThrow(/txId: identifier contains the control character U\+0000/)
  })
})

describe('recordableJson', () => {
  const payload = loadTxFixture('eth-transfer-signing')

  it('gives the canonical JSON of a payload the store can hold faithfully, a NUL escaped as text included', () => {
    const withNote = { note: 'literally \\u0000', ...payload }
    expect(recordableJson(withNote, 'id')).toEqual({ canonical: canonicalJson(withNote) })
    expect(recordableJson({ b: 1, a: [2, 'x'] }, 'id')).toEqual({ canonical: '{"a":[2,"x"],"b":1}' })
  })

  it('names the requestId, a NUL anywhere, or a lone surrogate anywhere with its place', () => {
    const problem = (value: unknown, requestId: string) =>
      (recordableJson(value, requestId) as { problem?: string }).problem
    expect(problem(payload, 'id\u0000')).toMatch(/^requestId contains the control character/)
    expect(problem({ ...payload, note: 'a\\\u0000' }, 'id')).toMatch(/NUL character/)
    expect(problem({ ...payload, extra: { '\ud800': 1 } }, 'id')).toBe(
      '$.extra["\\ud800"] of the payload is a member name with a lone UTF-16 surrogate',
    )
  })
})
