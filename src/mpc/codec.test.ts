import { describe, expect, it } from 'vitest'
import { decode, encode, MAX_ENCODED_BYTES } from './codec.js'

const refused = { code: 'CS_MPC_BAD_MESSAGE' }

/** The bytes of an object with one key, written by hand: what a hostile peer could send. */
function objectWithKey(key: string): Uint8Array {
  const keyBytes = Buffer.from(key)
  const header = (tag: number, n: number) => {
    const b = Buffer.alloc(5)
    b[0] = tag
    b.writeUInt32BE(n, 1)
    return b
  }
  return Buffer.concat([header(7, 1), header(4, keyBytes.length), keyBytes, Buffer.of(0)])
}

describe('codec', () => {
  it('round-trips the values the libraries produce: Maps with number keys, bytes, nested arrays and objects', () => {
    const value = {
      point: '02' + 'AB'.repeat(32),
      bytes: new Uint8Array([0, 1, 254, 255]),
      empty: new Uint8Array(0),
      map: new Map<unknown, unknown>([
        [1, { seeds: [[1, 2, 3], new Uint8Array(32).fill(9)] }],
        [2, new Map([[3, null]])],
      ]),
      list: [true, false, null, -1.5, 2 ** 40, 'é ☃'],
      byteLists: [[0, 255, 7], [256], [1.5], [-1], [], [0, -0]],
      big: 2n ** 200n,
    }
    const decoded = decode(encode(value)) as typeof value
    expect(decoded).toEqual(value)
    expect(decoded.bytes).toBeInstanceOf(Uint8Array)
    expect(decoded.map).toBeInstanceOf(Map)
    expect(Object.is(decoded.byteLists[5]?.[1], -0)).toBe(true)
    // A list of bytes costs a byte per element, not a 9-byte number each.
    expect(encode(new Array(1000).fill(200)).length).toBeLessThan(1010)
    expect((decoded.map.get(2) as Map<number, unknown>).get(3)).toBeNull()
  })

  it('refuses what it cannot round-trip instead of corrupting it', () => {
    expect(() => encode(new Date())).toThrow(expect.objectContaining({ code: 'CS_MPC_BAD_INPUT' }))
    expect(() => encode(() => 1)).toThrow(expect.objectContaining({ code: 'CS_MPC_BAD_INPUT' }))
    let deep: unknown = 1
    for (let i = 0; i < 40; i++) deep = [deep]
    expect(() => encode(deep)).toThrow(expect.objectContaining({ code: 'CS_MPC_BAD_INPUT' }))
  })

  it('refuses every truncation of a valid encoding', () => {
    const bytes = encode({ a: [1, new Uint8Array(5), new Map([[1, 'x']])], b: 'text' })
    for (let length = 0; length < bytes.length; length++)
      expect(() => decode(bytes.subarray(0, length))).toThrow(expect.objectContaining(refused))
  })

  it('refuses trailing bytes, unknown tags and invalid UTF-8', () => {
    expect(() => decode(Buffer.concat([encode('ok'), Buffer.of(0)]))).toThrow(
      expect.objectContaining(refused),
    )
    expect(() => decode(Buffer.of(42))).toThrow(expect.objectContaining(refused))
    expect(() => decode(Buffer.of(4, 0, 0, 0, 2, 0xc3, 0x28))).toThrow(expect.objectContaining(refused))
  })

  it('refuses lengths beyond the input and inputs above the size limit, before allocating', () => {
    expect(() => decode(Buffer.of(5, 0xff, 0xff, 0xff, 0xff))).toThrow(expect.objectContaining(refused))
    expect(() => decode(Buffer.of(6, 0xff, 0xff, 0xff, 0xff, 0))).toThrow(expect.objectContaining(refused))
    const oversized = encode(new Uint8Array(MAX_ENCODED_BYTES))
    expect(() => decode(oversized)).toThrow(expect.objectContaining(refused))
    let deep = encode(1)
    for (let i = 0; i < 40; i++) deep = Buffer.concat([Buffer.of(6, 0, 0, 0, 1), deep])
    expect(() => decode(deep)).toThrow(expect.objectContaining(refused))
  })

  it('refuses __proto__ and repeated keys, so no decoded object has a foreign prototype', () => {
    expect(decode(objectWithKey('safe'))).toEqual({ safe: null })
    expect(() => decode(objectWithKey('__proto__'))).toThrow(expect.objectContaining(refused))
    const repeated = Buffer.concat([
      Buffer.of(7, 0, 0, 0, 2),
      objectWithKey('k').subarray(5),
      objectWithKey('k').subarray(5),
    ])
    expect(() => decode(repeated)).toThrow(expect.objectContaining(refused))
    // JSON.parse makes __proto__ an own property; it is refused on the way in, not turned into a prototype.
    expect(() => decode(encode(JSON.parse('{"__proto__": {"polluted": 1}}')))).toThrow(
      expect.objectContaining(refused),
    )
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})
