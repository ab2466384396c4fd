/** One problem (or warning) found in a policy file, located as precisely as the source allows. */
export interface PolicyDiagnostic {
  readonly severity: 'error' | 'warning'
  /** Where in the document, e.g. `tx_signing[2].when`; `(root)` for the whole file. */
  readonly path: string
  /** 1-based line in the source file, when known. */
  readonly line?: number
  readonly message: string
}

/** A location in the policy document, as keys and indexes: `['tx_signing', 2, 'when']`. */
export type Path = readonly (string | number)[]

/** `tx_signing[2].when`; `(root)` for the document itself. */
export function formatPath(path: Path): string {
  if (path.length === 0) return '(root)'
  return path
    .map((part, index) => (typeof part === 'number' ? `[${part}]` : index === 0 ? part : `.${part}`))
    .join('')
}

/** Collects diagnostics located by document path, with YAML line numbers when the node exists. */
export class Diagnostics {
  private readonly lineOf: (path: Path) => number | undefined
  readonly list: PolicyDiagnostic[] = []
  constructor(lineOf: (path: Path) => number | undefined) {
    this.lineOf = lineOf
  }

  add(severity: PolicyDiagnostic['severity'], path: Path, message: string): void {
    const line = this.lineOf(path)
    this.list.push({ severity, path: formatPath(path), message, ...(line === undefined ? {} : { line }) })
  }
  error(path: Path, message: string): void {
    this.add('error', path, message)
  }
  warning(path: Path, message: string): void {
    this.add('warning', path, message)
  }
  get hasErrors(): boolean {
    return this.list.some((diagnostic) => diagnostic.severity === 'error')
  }
}
