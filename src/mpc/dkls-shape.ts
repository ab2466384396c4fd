import { secp256k1 } from '@noble/curves/secp256k1.js'
import { MpcError } from './errors.js'

/**
 * Schema validation of a DKLs23 message before it reaches the wasm, which panics on malformed, truncated or
 * off-curve input. The schema of each message kind is the shape of the message this party itself produced
 * for the same round (same keys, lengths, types), plus: hex strings are hex, 33-byte points are on the curve,
 * 32-byte scalars are below the group order, byte arrays hold bytes, and sender/receiver fields name the
 * authenticated sender and this party.
 */
export interface Addressing {
  readonly from: number
  readonly to: number
}

const HEX = /^[0-9A-Fa-f]*$/
const ORDER = secp256k1.Point.Fn.ORDER

export function assertSameShape(
  template: unknown,
  value: unknown,
  addressing: Addressing,
  sender: string,
  path = '$',
): void {
  const fail = (why: string): never => {
    throw new MpcError('CS_MPC_BAD_MESSAGE', `message from ${sender} rejected at ${path}: ${why}`, {
      party: sender,
    })
  }
  if (typeof template === 'string') return checkString(template, value, fail)
  if (typeof template === 'number') {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffffffff)
      fail('not an unsigned integer')
    return
  }
  if (typeof template === 'boolean') return void (typeof value !== 'boolean' && fail('not a boolean'))
  if (template instanceof Uint8Array) {
    if (!(value instanceof Uint8Array) || value.length !== template.length)
      fail(`not ${template.length} bytes`)
    return
  }
  if (Array.isArray(template)) return checkArray(template, value, addressing, sender, path, fail)
  if (template !== null && typeof template === 'object' && !(template instanceof Map)) {
    if (
      value === null ||
      typeof value !== 'object' ||
      Array.isArray(value) ||
      value instanceof Uint8Array ||
      value instanceof Map
    )
      fail('not an object')
    const expected = Object.keys(template).sort()
    const actual = Object.keys(value as object).sort()
    if (expected.join() !== actual.join())
      fail(`fields [${actual.join(', ')}] instead of [${expected.join(', ')}]`)
    for (const key of expected) {
      const item = (value as Record<string, unknown>)[key]
      assertSameShape((template as Record<string, unknown>)[key], item, addressing, sender, `${path}.${key}`)
      checkAddressing(key, item, addressing, fail)
    }
    return
  }
  fail('unexpected kind of value')
}

function checkString(template: string, value: unknown, fail: (why: string) => never): void {
  if (typeof value !== 'string' || value.length !== template.length || !HEX.test(value))
    fail(`not ${template.length} hex digits`)
  const hex = value
  if (hex.length === 66) {
    try {
      secp256k1.Point.fromHex(hex)
    } catch {
      fail('not a point on secp256k1')
    }
  }
  if (hex.length === 64 && BigInt(`0x${hex}`) >= ORDER) fail('scalar not below the group order')
}

function checkArray(
  template: unknown[],
  value: unknown,
  addressing: Addressing,
  sender: string,
  path: string,
  fail: (why: string) => never,
): void {
  if (!Array.isArray(value) || value.length !== template.length) fail(`not an array of ${template.length}`)
  const items = value as unknown[]
  const isBytes = template.length > 0 && template.every((x) => typeof x === 'number' && x <= 255)
  items.forEach((item, i) => {
    if (isBytes) {
      if (typeof item !== 'number' || !Number.isInteger(item) || item < 0 || item > 255)
        fail(`element ${i} is not a byte`)
      return
    }
    assertSameShape(template[i], item, addressing, sender, `${path}[${i}]`)
  })
}

const SENDER_FIELDS = new Set(['sender', 'sender_index', 'index'])

function checkAddressing(
  key: string,
  value: unknown,
  addressing: Addressing,
  fail: (why: string) => never,
): void {
  if (SENDER_FIELDS.has(key) && value !== addressing.from)
    fail(`${key} ${String(value)} is not the sender ${addressing.from}`)
  if (key === 'receiver' && value !== addressing.to)
    fail(`receiver ${String(value)} is not this party ${addressing.to}`)
}
