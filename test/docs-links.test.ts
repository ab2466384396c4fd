/**
 * Every relative link in README.md and docs/*.md names a file or folder that is in the repository, and so
 * does every repository path the prose names in a code span (`src/storage/batcher.ts`, `DESIGN.md`).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '..')
const DOCUMENTS = [
  join(ROOT, 'README.md'),
  ...readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(ROOT, 'docs', name)),
]

/** Targets of inline links and images, `[text](target "title")`, outside code blocks and spans. */
function relativeTargets(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '')
  return [...prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)]
    .map((match) => match[1]!)
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('#'))
    .map((target) => decodeURIComponent(target.split('#')[0]!))
}

const FILE_EXTENSION = /\.(ts|js|cjs|mjs|md|json|ya?ml)$/

/**
 * Code spans that name a file of the repository: a path with a folder (`src/x.ts`, `../shared/y.md`),
 * or a bare Markdown file name (`DESIGN.md`). Paths of the operator's own files (`.countersign/...`,
 * `.countersign-dev/...`), globs and commands are not.
 */
function namedPaths(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, '')
  return [...prose.matchAll(/`([^`\s*]+)`/g)]
    .map((match) => match[1]!)
    .filter((span) => FILE_EXTENSION.test(span) && !/^\.countersign(-dev)?\//.test(span))
    .filter((span) => span.includes('/') || span.endsWith('.md'))
}

/** A named path exists inside the repository, from the document's folder or from the repository's root. */
function exists(file: string, target: string): boolean {
  return [resolve(dirname(file), target), resolve(ROOT, target)].some(
    (path) => !relative(ROOT, path).startsWith('..') && existsSync(path),
  )
}

describe('documentation links', () => {
  it.each(DOCUMENTS.map((file) => [relative(ROOT, file), file]))(
    '%s links only to files that exist',
    (_, file) => {
      const missing = relativeTargets(readFileSync(file, 'utf8')).filter((target) => !exists(file, target))
      expect(missing).toEqual([])
    },
  )

  it.each(DOCUMENTS.map((file) => [relative(ROOT, file), file]))(
    '%s names only repository files that exist',
    (_, file) => {
      const missing = namedPaths(readFileSync(file, 'utf8')).filter((target) => !exists(file, target))
      expect(missing).toEqual([])
    },
  )

  it('finds the paths it checks', () => {
    expect(
      namedPaths(
        '`src/store/batcher.ts`, `DESIGN.md`, `FILE.test.yaml`, `.countersign/policy.yaml`, `.countersign-dev/dev.json`, `npm test`',
      ),
    ).toEqual(['src/store/batcher.ts', 'DESIGN.md'])
  })

  it('finds the links it checks (a broken pattern would pass every document)', () => {
    expect(
      relativeTargets('see [the keys](docs/keys.md#generate) and `[x](nope.md)` or [web](https://x.org)'),
    ).toEqual(['docs/keys.md'])
  })
})
