/**
 * The module boundaries are enforced by `npm run lint` (dependency-cruiser on the resolved import graph):
 * a scratch copy of the tree with one forbidden import must make it fail, naming the broken rule.
 */
import { execFile } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '..', '..')
const COPIED = [
  'src',
  'test',
  'bench',
  'package.json',
  'tsconfig.json',
  '.dependency-cruiser.cjs',
  'eslint.config.js',
]

const scratchCopies: string[] = []

function scratchCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cs-lint-'))
  scratchCopies.push(dir)
  for (const entry of COPIED) cpSync(join(ROOT, entry), join(dir, entry), { recursive: true })
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
  return dir
}

/** Appends `line` to a source file of the copy, as a contributor's change would. */
function addLine(dir: string, file: string, line: string): void {
  const path = join(dir, file)
  writeFileSync(path, `${readFileSync(path, 'utf8')}\n${line}\n`)
}

async function run(dir: string, script: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)('npm', ['run', '--silent', script], { cwd: dir })
    return { code: 0, output: stdout + stderr }
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string }
    return { code: failed.code, output: failed.stdout + failed.stderr }
  }
}

afterEach(() => {
  for (const dir of scratchCopies.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe('npm run lint enforces the module boundaries', () => {
  it('passes on the tree as it is', async () => {
    const { code, output } = await run(scratchCopy(), 'lint:boundaries')
    expect(output).not.toMatch(/error/)
    expect(code).toBe(0)
  })

  it.each([
    {
      what: 'a lower module importing a higher one',
      file: 'src/core/index.ts',
      line: "export * from '../handler/index.js'",
      rule: 'core-imports-only-what-design-allows',
    },
    {
      what: 'another module bypassing its index.ts',
      file: 'src/handler/index.ts',
      line: "export * from '../keys/sign-request.js'",
      rule: 'other-modules-through-their-index',
    },
    {
      what: 'fastify imported outside src/service',
      file: 'src/policy/index.ts',
      line: "import 'fastify'",
      rule: 'only-service-imports-fastify',
    },
    {
      what: 'a dynamic import of a forbidden module',
      file: 'src/protocol/index.ts',
      line: "export const load = () => import('../policy/index.js')",
      rule: 'protocol-imports-only-what-design-allows',
    },
    {
      what: 'a test reaching into a module',
      file: 'test/support/cli.ts',
      line: "import '../../src/keys/sign-request.js'",
      rule: 'other-modules-through-their-index',
    },
  ])('fails on $what', async ({ file, line, rule }) => {
    const dir = scratchCopy()
    addLine(dir, file, line)
    const { code, output } = await run(dir, 'lint')
    expect(code).not.toBe(0)
    expect(output).toContain(rule)
  })
})
