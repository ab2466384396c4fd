import type { createHash } from 'node:crypto'
import { parse as parseYaml } from 'yaml'
import { normalizeAddress } from './address.js'
import type { Diagnostics } from './diagnostics.js'
import { parseDuration } from '../../core/index.js'
import type { ListSpec } from './schema-parts.js'
import type { CompiledList } from './first-match.js'

/** What the pure compiler needs from the outside: list files, read relative to the policy file. */
export interface ListFileReader {
  (path: string): { readonly text: string; readonly mtimeMs: number }
}

/**
 * Resolves `lists:`: inline arrays, and files read through `readListFile` and folded into the
 * policy digest; addresses in them are normalized as request addresses are (address.ts). With `now`, a file older than its `max_age` is reported (evaluation fails closed on it).
 */
export function compileLists(
  lists: Record<string, ListSpec>,
  options: { readonly readListFile: ListFileReader; readonly now?: Date | undefined },
  digest: ReturnType<typeof createHash>,
  diagnostics: Diagnostics,
): Map<string, CompiledList> {
  const compiled = new Map<string, CompiledList>()
  for (const [name, spec] of Object.entries(lists).sort(([a], [b]) => a.localeCompare(b))) {
    if (Array.isArray(spec)) {
      compiled.set(name, { values: spec.map(normalizeAddress), loadedAtMs: undefined, maxAgeMs: undefined })
      continue
    }
    let file: { text: string; mtimeMs: number }
    try {
      file = options.readListFile(spec.file)
    } catch (error) {
      const reason = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable'
      diagnostics.error(['lists', name, 'file'], `cannot read list file ${spec.file} (${reason})`)
      continue
    }
    let values: unknown
    try {
      values = parseYaml(file.text)
    } catch {
      values = undefined
    }
    if (!Array.isArray(values) || !values.every((value) => typeof value === 'string')) {
      diagnostics.error(
        ['lists', name, 'file'],
        `list file ${spec.file} must hold a JSON or YAML array of strings`,
      )
      continue
    }
    digest.update(`\u0000list:${name}\u0000`).update(file.text)
    const maxAgeMs = spec.max_age === undefined ? undefined : parseDuration(spec.max_age)
    if (
      maxAgeMs !== undefined &&
      options.now !== undefined &&
      options.now.getTime() - file.mtimeMs > maxAgeMs
    ) {
      diagnostics.warning(
        ['lists', name, 'max_age'],
        `list file ${spec.file} is older than ${spec.max_age}: conditions reading lists.${name} fail closed until it is refreshed`,
      )
    }
    compiled.set(name, { values: values.map(normalizeAddress), loadedAtMs: file.mtimeMs, maxAgeMs })
  }
  return compiled
}
