/**
 * The dependency direction of ../shared/DESIGN.md, checked on the source: a module may import only the
 * modules its row allows, and only through their index.ts.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

const SRC = join(import.meta.dirname, '..', 'src')

const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  protocol: ['core'],
  keys: ['core', 'protocol'],
  mpc: ['core'],
  policy: ['core', 'protocol'],
  store: ['core', 'protocol'],
  storage: ['core', 'protocol'],
  seal: ['core'],
  service: ['core'],
  'callback-client': ['core', 'protocol', 'keys'],
  testing: ['core', 'protocol', 'keys', 'callback-client'],
  handler: ['core', 'protocol', 'keys', 'policy', 'store', 'storage', 'service'],
  hub: ['core', 'protocol', 'keys', 'policy', 'storage', 'seal', 'service', 'mpc'],
  cosigner: ['core', 'protocol', 'keys', 'storage', 'seal', 'service', 'mpc', 'callback-client'],
  cli: [
    'core',
    'protocol',
    'keys',
    'policy',
    'store',
    'storage',
    'seal',
    'service',
    'callback-client',
    'testing',
    'handler',
    'cosigner',
    'hub',
    'mpc',
  ],
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sourceFiles(path)
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : []
  })
}

const importPattern = /^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm

describe('module dependency direction', () => {
  const files = sourceFiles(SRC).filter((file) => relative(SRC, file).includes('/'))

  it('finds the modules', () => {
    expect(files.some((file) => file.includes('/protocol/'))).toBe(true)
  })

  it.each(files.map((file) => [relative(SRC, file), file]))(
    '%s imports only what DESIGN.md allows',
    (_name, file) => {
      const module = relative(SRC, file).split('/')[0]!
      const allowed = ALLOWED[module]
      expect(allowed, `module ${module} is not in DESIGN.md`).toBeDefined()
      for (const [, specifier] of readFileSync(file, 'utf8').matchAll(importPattern)) {
        if (!specifier!.startsWith('.')) continue
        const target = relative(SRC, join(file, '..', specifier!)).split('/')
        if (target[0] === module || target.length === 1) continue
        expect(allowed, `${module} imports ${target[0]}`).toContain(target[0])
        expect(target.slice(1).join('/'), `${specifier} bypasses ${target[0]}/index.ts`).toBe('index.js')
      }
    },
  )
})
