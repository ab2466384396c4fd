/**
 * docs/errors.md and the modules' error catalogues, kept in sync both ways (fastify's errors test against
 * docs/Reference/Errors.md is the model). Catalogues are collected through each module's index.ts, so a new
 * module's `<MODULE>_ERRORS` is checked without editing this test.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ErrorCatalogue, ErrorCodeInfo } from '../src/core/index.js'

const ROOT = join(import.meta.dirname, '..')
const SRC = join(ROOT, 'src')

interface DeclaredCode extends ErrorCodeInfo {
  readonly code: string
  readonly module: string
}

function isCatalogue(value: unknown): value is ErrorCatalogue {
  return typeof value === 'object' && value !== null && 'module' in value && 'codes' in value
}

async function declaredCodes(): Promise<{ modules: string[]; codes: DeclaredCode[] }> {
  const modules = readdirSync(SRC).filter((name) => existsSync(join(SRC, name, 'index.ts')))
  const codes: DeclaredCode[] = []
  for (const module of modules) {
    const exports = (await import(join(SRC, module, 'index.ts'))) as Record<string, unknown>
    for (const [name, value] of Object.entries(exports)) {
      if (!name.endsWith('_ERRORS') || !isCatalogue(value)) continue
      for (const [code, info] of Object.entries(value.codes))
        codes.push({ code, module: value.module, ...info })
    }
  }
  return { modules, codes }
}

/** `## module`, then per code `### CS_CODE`, `- Meaning: ...`, `- Fix: ...`. */
function documentedCodes(markdown: string): DeclaredCode[] {
  const codes: DeclaredCode[] = []
  let module = ''
  for (const section of markdown.split(/^(?=##+ )/m)) {
    const heading = /^(##+) (.+)$/m.exec(section)
    if (heading === null) continue
    if (heading[1] === '##') module = heading[2]!.trim()
    if (heading[1] !== '###') continue
    codes.push({
      code: heading[2]!.trim(),
      module,
      meaning: /^- Meaning: (.+)$/m.exec(section)?.[1]?.trim() ?? '',
      fix: /^- Fix: (.+)$/m.exec(section)?.[1]?.trim() ?? '',
    })
  }
  return codes
}

const key = (entry: DeclaredCode) => entry.code

describe('error catalogue', async () => {
  const { modules, codes: declared } = await declaredCodes()
  const documented = documentedCodes(readFileSync(join(ROOT, 'docs', 'errors.md'), 'utf8'))

  it('collects the catalogues of the modules', () => {
    expect(modules).toEqual(expect.arrayContaining(['core', 'protocol', 'keys', 'handler']))
    expect(declared.map(key)).toEqual(expect.arrayContaining(['CS_NOT_JSON', 'CS_JWT_MALFORMED']))
  })

  it('every module with an errors.ts exports its catalogue from its index', async () => {
    const missing: string[] = []
    for (const module of modules) {
      if (!existsSync(join(SRC, module, 'errors.ts'))) continue
      const exports = (await import(join(SRC, module, 'index.ts'))) as Record<string, unknown>
      if (!Object.entries(exports).some(([name, value]) => name.endsWith('_ERRORS') && isCatalogue(value)))
        missing.push(module)
    }
    expect(missing, 'modules whose index.ts exports no <MODULE>_ERRORS').toEqual([])
  })

  it('no code is declared by two modules', () => {
    const owners = new Map<string, string[]>()
    for (const { code, module } of declared) owners.set(code, [...(owners.get(code) ?? []), module])
    const twice = [...owners]
      .filter(([, by]) => by.length > 1)
      .map(([code, by]) => `${code}: ${by.join(', ')}`)
    expect(twice).toEqual([])
  })

  it('every declared code is documented in docs/errors.md under its module, with the same meaning and fix', () => {
    const byCode = new Map(documented.map((entry) => [entry.code, entry]))
    const undocumented = declared.filter((entry) => !byCode.has(entry.code)).map(key)
    expect(undocumented, 'codes missing from docs/errors.md').toEqual([])
    for (const entry of declared) expect(byCode.get(entry.code), entry.code).toEqual(entry)
  })

  it('every documented code is declared by a module', () => {
    const known = new Set(declared.map(key))
    expect(
      documented.filter((entry) => !known.has(entry.code)).map(key),
      'codes in docs/errors.md that no module declares',
    ).toEqual([])
    expect(documented.length, 'a code listed twice in docs/errors.md').toBe(new Set(documented.map(key)).size)
  })
})
