import { LineCounter, parseDocument } from 'yaml'
import type { z } from 'zod'
import { Diagnostics, type Path } from './diagnostics.js'

/**
 * Step one of every policy instance: YAML text → a schema-checked file, every problem located by its
 * line. Duplicate keys, YAML syntax errors and schema violations are all reported, not just the first.
 */
export interface PolicySource<T> {
  /** Present when the text parsed and matched the schema. */
  readonly file: T | undefined
  /** Collects this source's diagnostics; later compile steps add theirs here, with lines. */
  readonly diagnostics: Diagnostics
}

export function readPolicySource<S extends z.ZodType>(text: string, schema: S): PolicySource<z.output<S>> {
  const lineCounter = new LineCounter()
  const document = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false })
  const diagnostics = new Diagnostics((path) => {
    const node = document.getIn(path, true) as { range?: [number, number, number] } | undefined
    const offset = node?.range?.[0]
    return offset === undefined ? undefined : lineCounter.linePos(offset).line
  })
  for (const error of document.errors) {
    diagnostics.list.push({
      severity: 'error',
      path: '(yaml)',
      message: error.message.split('\n')[0]!,
      line: lineCounter.linePos(error.pos[0]).line,
    })
  }
  if (diagnostics.hasErrors) return { file: undefined, diagnostics }
  const parsed = schema.safeParse(document.toJS())
  if (!parsed.success) {
    for (const issue of parsed.error.issues) diagnostics.error(issue.path as Path, issue.message)
    return { file: undefined, diagnostics }
  }
  return { file: parsed.data, diagnostics }
}
