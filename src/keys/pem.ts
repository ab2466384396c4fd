/** PEM armour (RFC 7468): reading labelled blocks, writing one. */
export interface PemBlock {
  readonly label: string
  /** The block from its BEGIN line to its END line, as Node's key parsers accept it. */
  readonly text: string
  /** RFC 1421 headers such as `Proc-Type: 4,ENCRYPTED` (legacy encrypted keys). */
  readonly headers: readonly string[]
  readonly der: Buffer
}

const BEGIN = /-----BEGIN ([A-Z0-9 ]+)-----/g

/**
 * Finds every PEM block in a text. A BEGIN line without its END line, or a body that is not base64, is
 * reported as a truncated or damaged file rather than skipped.
 */
export function readPemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = []
  for (const match of text.matchAll(BEGIN)) {
    const label = match[1] ?? ''
    const endLine = `-----END ${label}-----`
    const bodyStart = match.index + match[0].length
    const endIndex = text.indexOf(endLine, bodyStart)
    if (endIndex < 0) throw new RangeError(`the PEM block "${label}" has no END line (the file is truncated)`)
    const lines = text.slice(bodyStart, endIndex).split(/\r?\n/)
    const headers = lines.filter((line) => line.includes(':'))
    const body = lines.filter((line) => !line.includes(':')).join('')
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body.trim()) || body.trim().length === 0) {
      throw new RangeError(`the PEM block "${label}" is not valid base64 (the file is damaged)`)
    }
    blocks.push({
      label,
      text: text.slice(match.index, endIndex + endLine.length),
      headers,
      der: Buffer.from(body, 'base64'),
    })
  }
  return blocks
}

/** The PEM text of `der` as openssl writes it: 64-column base64 lines, a line break after the END line. */
export function writePem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? []
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`
}
