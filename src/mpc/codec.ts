import { MpcError } from './errors.js'

/**
 * The one binary codec for protocol messages and stored state. The libraries' values hold `Map` and
 * `Uint8Array`, which `JSON.stringify` corrupts (the wasm then panics on the receiving side); this codec keeps
 * both, refuses anything it cannot round-trip, and bounds what it decodes.
 */
const Tag = {
  null: 0,
  false: 1,
  true: 2,
  number: 3,
  string: 4,
  bytes: 5,
  array: 6,
  object: 7,
  map: 8,
  bigint: 9,
  byteList: 10,
} as const
const MAX_DEPTH = 32
/** Far above the largest value the protocols produce (a DKLs key share, ≈100 KB; a DKG round-3 message, ≈300 KB). */
export const MAX_ENCODED_BYTES = 8 * 1024 * 1024
const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder('utf-8', { fatal: true })

export function encode(value: unknown): Uint8Array {
  const chunks: Uint8Array[] = []
  write(value, chunks, 0)
  return Buffer.concat(chunks)
}

function write(value: unknown, out: Uint8Array[], depth: number): void {
  if (depth > MAX_DEPTH) throw new MpcError('CS_MPC_BAD_INPUT', 'value nested too deeply to encode')
  if (value === null) return void out.push(Uint8Array.of(Tag.null))
  if (value === false || value === true) return void out.push(Uint8Array.of(value ? Tag.true : Tag.false))
  if (typeof value === 'number') {
    const b = Buffer.alloc(9)
    b[0] = Tag.number
    b.writeDoubleBE(value, 1)
    return void out.push(b)
  }
  if (typeof value === 'bigint') return writeSized(Tag.bigint, textEncoder.encode(value.toString(16)), out)
  if (typeof value === 'string') return writeSized(Tag.string, textEncoder.encode(value), out)
  if (value instanceof Uint8Array) return writeSized(Tag.bytes, value, out)
  // The wasm's Vec<u8> values are arrays of numbers; one byte each instead of a 9-byte number apiece.
  if (isByteList(value)) return writeSized(Tag.byteList, Uint8Array.from(value), out)
  if (Array.isArray(value)) {
    out.push(header(Tag.array, value.length))
    for (const item of value) write(item, out, depth + 1)
    return
  }
  if (value instanceof Map) {
    out.push(header(Tag.map, value.size))
    for (const [k, v] of value) {
      write(k, out, depth + 1)
      write(v, out, depth + 1)
    }
    return
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined)
    out.push(header(Tag.object, entries.length))
    for (const [k, v] of entries) {
      writeSized(Tag.string, textEncoder.encode(k), out)
      write(v, out, depth + 1)
    }
    return
  }
  throw new MpcError('CS_MPC_BAD_INPUT', `cannot encode a value of type ${typeof value}`)
}

function isByteList(value: unknown): value is number[] {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((x) => Number.isInteger(x) && x >= 0 && x <= 255 && !Object.is(x, -0))
  )
}

function header(tag: number, length: number): Uint8Array {
  const b = Buffer.alloc(5)
  b[0] = tag
  b.writeUInt32BE(length, 1)
  return b
}

function writeSized(tag: number, bytes: Uint8Array, out: Uint8Array[]): void {
  out.push(header(tag, bytes.length), bytes)
}

export function decode(bytes: Uint8Array): unknown {
  if (bytes.length > MAX_ENCODED_BYTES)
    throw malformed(`${bytes.length} bytes, above the ${MAX_ENCODED_BYTES}-byte limit`)
  const reader = { buf: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), pos: 0 }
  const value = read(reader, 0)
  if (reader.pos !== reader.buf.length) throw malformed('trailing bytes')
  return value
}

interface Reader {
  buf: Buffer
  pos: number
}

const malformed = (why: string) => new MpcError('CS_MPC_BAD_MESSAGE', `malformed encoding: ${why}`)

function take(r: Reader, n: number): Buffer {
  if (n > r.buf.length - r.pos) throw malformed('truncated')
  const slice = r.buf.subarray(r.pos, r.pos + n)
  r.pos += n
  return slice
}

function readLength(r: Reader): number {
  const n = take(r, 4).readUInt32BE(0)
  // Every element takes at least one byte, so a count beyond the remaining bytes is a lie.
  if (n > r.buf.length - r.pos) throw malformed('length beyond the end')
  return n
}

function read(r: Reader, depth: number): unknown {
  if (depth > MAX_DEPTH) throw malformed('nested too deeply')
  const tag = take(r, 1)[0]
  switch (tag) {
    case Tag.null:
      return null
    case Tag.false:
      return false
    case Tag.true:
      return true
    case Tag.number:
      return take(r, 8).readDoubleBE(0)
    case Tag.bigint:
      return BigInt(`0x${readString(r)}`)
    case Tag.string:
      return readString(r)
    case Tag.bytes:
      return new Uint8Array(take(r, readLength(r)))
    case Tag.byteList:
      return Array.from(take(r, readLength(r)))
    case Tag.array: {
      const n = readLength(r)
      const items: unknown[] = []
      for (let i = 0; i < n; i++) items.push(read(r, depth + 1))
      return items
    }
    case Tag.map: {
      const n = readLength(r)
      const map = new Map<unknown, unknown>()
      for (let i = 0; i < n; i++) map.set(read(r, depth + 1), read(r, depth + 1))
      return map
    }
    case Tag.object: {
      const n = readLength(r)
      const obj: Record<string, unknown> = {}
      for (let i = 0; i < n; i++) {
        if (take(r, 1)[0] !== Tag.string) throw malformed('object key is not a string')
        const key = readString(r)
        if (key === '__proto__' || Object.hasOwn(obj, key))
          throw malformed(`forbidden or repeated key ${key}`)
        obj[key] = read(r, depth + 1)
      }
      return obj
    }
    default:
      throw malformed(`unknown tag ${String(tag)}`)
  }
}

function readString(r: Reader): string {
  try {
    return textDecoder.decode(take(r, readLength(r)))
  } catch (cause) {
    if (cause instanceof MpcError) throw cause
    throw malformed('invalid UTF-8')
  }
}
