import { describe, expect, it } from 'vitest'
import { NotJson, canonicalJson, sha256Hex } from './index.js'

describe('canonical JSON (RFC 8785)', () => {
  it('sorts members by UTF-16 code units at every level and writes numbers as ECMAScript does', () => {
    expect(
      canonicalJson({ b: [3, { z: 1, a: 2 }], a: 1e21, c: 'é', '\u20ac': 0.1, '\ud83d\ude00': -0 }),
    ).toBe('{"a":1e+21,"b":[3,{"a":2,"z":1}],"c":"é","€":0.1,"😀":0}')
  })

  it('matches the RFC 8785 §3.2.2 example', () => {
    const input = JSON.parse(
      '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}',
    ) as unknown
    expect(canonicalJson(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    )
  })

  it('keeps an own "__proto__" member as data, top-level and nested', () => {
    const parsed = JSON.parse('{"a":1,"__proto__":{"x":1},"n":{"__proto__":[2]}}') as unknown
    expect(canonicalJson(parsed)).toBe('{"__proto__":{"x":1},"a":1,"n":{"__proto__":[2]}}')
    const without = JSON.parse('{"a":1,"n":{}}') as unknown
    expect(sha256Hex(canonicalJson(parsed))).not.toBe(sha256Hex(canonicalJson(without)))
  })

  it.each([
    ['a Date', { at: new Date(0) }, '$.at is an instance of Date'],
    ['a Map', { m: new Map([['a', 1]]) }, '$.m is an instance of Map'],
    ['a Set', [new Set([1])], '$[0] is an instance of Set'],
    ['an undefined member', { a: undefined }, '$.a is undefined'],
    ['an undefined element', [1, undefined], '$[1] is undefined'],
    ['an empty array slot', new Array<number>(3).fill(1, 0, 1), '$[1] is an empty array slot'],
    ['a function', { f: () => 1 }, '$.f is a function'],
    ['a BigInt', { n: 10n }, '$.n is a bigint'],
    ['NaN', { n: Number.NaN }, '$.n is NaN'],
    ['Infinity', { deep: [{ n: Number.POSITIVE_INFINITY }] }, '$.deep[0].n is Infinity'],
    ['a class instance', { v: new (class Amount {})() }, '$.v is an instance of Amount'],
    ['a symbol', { s: Symbol('s') }, '$.s is a symbol'],
    ['a lone surrogate', { 'odd key': 'a\ud800' }, '$["odd key"] is a string with a lone UTF-16 surrogate'],
    ['undefined itself', undefined, '$ is undefined'],
  ])('refuses %s, naming where, instead of writing something else', (_, value, message) => {
    expect(() => canonicalJson(value)).toThrow(NotJson)
    expect(() => canonicalJson(value)).toThrow(message)
  })

  it('refuses a cycle but accepts the same object twice side by side', () => {
    const shared = { a: 1 }
    expect(canonicalJson({ x: shared, y: shared })).toBe('{"x":{"a":1},"y":{"a":1}}')
    const cyclic: Record<string, unknown> = { a: 1 }
    cyclic.self = { back: cyclic }
    expect(() => canonicalJson(cyclic)).toThrow('$.self.back is a circular reference')
  })

  it('accepts objects without a prototype and nesting deeper than the call stack', () => {
    const bare = Object.assign(Object.create(null) as object, { b: 1, a: 2 })
    expect(canonicalJson(bare)).toBe('{"a":2,"b":1}')
    const deep = JSON.parse('['.repeat(20_000) + ']'.repeat(20_000)) as unknown
    expect(canonicalJson(deep)).toHaveLength(40_000)
  })
})
