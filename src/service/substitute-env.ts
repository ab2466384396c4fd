import type { KeyPath } from './yaml-source.js'

/** A `${VAR}` that the environment does not set, and the key whose value names it. */
export interface UnsetVariable {
  readonly name: string
  readonly path: KeyPath
}

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g

/**
 * Replaces `${VAR}` in every string of a parsed document. An unset variable is reported with its key, and
 * its key is left out of the result's meaning (the caller must not read a file named by an empty string:
 * that is where a spurious EISDIR came from).
 */
export function substituteEnv(
  value: unknown,
  env: NodeJS.ProcessEnv,
  path: KeyPath = [],
): { value: unknown; unset: UnsetVariable[] } {
  const unset: UnsetVariable[] = []
  const walk = (node: unknown, at: KeyPath): unknown => {
    if (typeof node === 'string') {
      return node.replace(VARIABLE, (_, name: string) => {
        const replacement = env[name]
        if (replacement === undefined) unset.push({ name, path: at })
        return replacement ?? ''
      })
    }
    if (Array.isArray(node)) return node.map((item, index) => walk(item, [...at, index]))
    if (node !== null && typeof node === 'object')
      return Object.fromEntries(Object.entries(node).map(([key, item]) => [key, walk(item, [...at, key])]))
    return node
  }
  return { value: walk(value, path), unset }
}
