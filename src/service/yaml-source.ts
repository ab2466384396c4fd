import { readFileSync } from 'node:fs'
import { LineCounter, parseDocument, isMap, isSeq, isScalar, type Node } from 'yaml'
import { ConfigInvalid } from './errors.js'

export type KeyPath = readonly (string | number)[]

/** A parsed YAML configuration that can say on which line and column each key sits. */
export interface YamlSource {
  readonly file: string
  readonly value: unknown
  /** Line and column (1-based) of the key at `path`, or of its nearest ancestor present in the file. */
  locate(path: KeyPath): { line: number; column: number } | undefined
}

function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    const code = errnoCode(error)
    const message =
      code === 'ENOENT'
        ? 'file not found'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a folder, not a file'
            : `cannot be read (${code ?? 'unknown error'})`
    throw new ConfigInvalid([{ path: '', file, message, fix: 'give the path of a readable YAML file' }])
  }
}

/** The node holding the key at `path` (the key itself for a mapping entry, so positions point at names). */
function nodeAt(root: Node | null, path: KeyPath): Node | undefined {
  let node: Node | null | undefined = root
  let keyNode: Node | undefined
  for (const step of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(step))
      if (!pair) return keyNode ?? node ?? undefined
      keyNode = isScalar(pair.key) ? pair.key : undefined
      node = pair.value as Node | null
    } else if (isSeq(node) && typeof step === 'number') {
      const item = node.items[step] as Node | undefined
      if (!item) return keyNode ?? node ?? undefined
      keyNode = item
      node = item
    } else {
      return keyNode ?? node ?? undefined
    }
  }
  return keyNode ?? node ?? undefined
}

/** Reads a YAML file; a syntax error names its line and column. */
export function readYamlSource(file: string): YamlSource {
  const text = readText(file)
  const lineCounter = new LineCounter()
  const document = parseDocument(text, { lineCounter, uniqueKeys: true })
  if (document.errors.length > 0) {
    throw new ConfigInvalid(
      document.errors.map((error) => {
        const position = error.linePos?.[0]
        return {
          path: '',
          file,
          ...(position ? { line: position.line, column: position.col } : {}),
          message: `not valid YAML: ${error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
          fix: 'correct the YAML syntax at that position',
        }
      }),
    )
  }
  return {
    file,
    value: document.toJS() as unknown,
    locate(path) {
      const node = nodeAt(document.contents, path)
      const offset = node?.range?.[0]
      if (offset === undefined) return undefined
      const { line, col } = lineCounter.linePos(offset)
      return { line, column: col }
    },
  }
}
