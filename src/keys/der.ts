/**
 * The few DER (X.690) pieces PKCS#10 needs: encoding a TLV, object identifiers, and a strict reader that
 * refuses indefinite or non-minimal lengths and trailing bytes. Node's crypto reads keys and certificates
 * but not certificate requests; this fills that gap without a dependency.
 */
export const DerTag = {
  integer: 0x02,
  bitString: 0x03,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  ia5String: 0x16,
  sequence: 0x30,
  set: 0x31,
  contextConstructed0: 0xa0,
} as const

export interface DerElement {
  readonly tag: number
  /** The content octets. */
  readonly content: Buffer
  /** The whole TLV, exactly as read (a signature covers these bytes). */
  readonly encoded: Buffer
}

export function encodeDer(tag: number, ...contents: readonly Uint8Array[]): Buffer {
  const content = Buffer.concat(contents)
  const length = content.length
  if (length < 0x80) return Buffer.concat([Buffer.from([tag, length]), content])
  const lengthBytes: number[] = []
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) lengthBytes.unshift(rest % 256)
  return Buffer.concat([Buffer.from([tag, 0x80 | lengthBytes.length, ...lengthBytes]), content])
}

/** Encodes a dotted object identifier as a complete DER TLV. */
export function encodeOid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number)
  const [first = 0, second = 0, ...rest] = arcs
  const bytes: number[] = []
  for (const arc of [first * 40 + second, ...rest]) {
    const group: number[] = [arc % 128]
    for (let value = Math.floor(arc / 128); value > 0; value = Math.floor(value / 128)) {
      group.unshift((value % 128) | 0x80)
    }
    bytes.push(...group)
  }
  return encodeDer(DerTag.oid, Buffer.from(bytes))
}

function readElement(buffer: Buffer, offset: number): DerElement {
  const fail = (what: string): never => {
    throw new RangeError(`invalid DER at byte ${offset}: ${what}`)
  }
  const tag = buffer[offset] ?? fail('unexpected end of data')
  const first = buffer[offset + 1] ?? fail('unexpected end of data')
  let length = first
  let header = 2
  if (first >= 0x80) {
    const count = first & 0x7f
    if (count === 0 || count > 4) fail('indefinite or oversized length')
    length = 0
    for (let i = 0; i < count; i++)
      length = length * 256 + (buffer[offset + 2 + i] ?? fail('truncated length'))
    if (length < 0x80 || buffer[offset + 2] === 0) fail('non-minimal length')
    header += count
  }
  const end = offset + header + length
  if (end > buffer.length) fail('element runs past the end of the data')
  return { tag, content: buffer.subarray(offset + header, end), encoded: buffer.subarray(offset, end) }
}

/** Reads exactly one element spanning the whole buffer, of the given tag when one is given. */
export function readDer(buffer: Buffer, tag?: number): DerElement {
  const element = readElement(buffer, 0)
  if (element.encoded.length !== buffer.length) throw new RangeError('invalid DER: trailing bytes')
  if (tag !== undefined && element.tag !== tag) throw new RangeError('invalid DER: unexpected outer tag')
  return element
}

/** Reads the children of a constructed element, checking each child's tag when `tags` is given. */
export function readDerChildren(parent: DerElement, tags?: readonly number[]): DerElement[] {
  const children: DerElement[] = []
  for (let offset = 0; offset < parent.content.length;) {
    const child = readElement(parent.content, offset)
    children.push(child)
    offset += child.encoded.length
  }
  if (tags !== undefined) {
    if (children.length < tags.length) throw new RangeError('invalid DER: missing elements')
    tags.forEach((tag, index) => {
      if (children[index]?.tag !== tag)
        throw new RangeError(`invalid DER: unexpected tag at element ${index}`)
    })
  }
  return children
}
