/**
 * The policy module's only file-system access: reading a policy file and the list files it names.
 * Everything else in the module is pure.
 */
import { existsSync, readFileSync, statSync } from 'node:fs'
import { basename, dirname, isAbsolute, join, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { compilePolicySource, type CompileResult } from './compile-policy.js'
import { PolicyCasesInvalid, PolicyInvalid, type PolicyDiagnostic } from './errors.js'
import { createCompiledPolicy, type CompiledPolicy } from './evaluate-policy.js'
import { mergePatch, PolicyCasesSchema, type PolicyCase, type PolicyCaseSpec } from './policy-cases.js'
import { formatZodIssues } from '../core/index.js'

export interface PolicyReport {
  readonly diagnostics: readonly PolicyDiagnostic[]
  /** `null` when any diagnostic is an error. */
  readonly policy: CompiledPolicy | null
}

function compileText(
  text: string,
  options: { sourceName: string; baseDir: string; now?: Date },
): CompileResult {
  return compilePolicySource(text, {
    sourceName: options.sourceName,
    ...(options.now === undefined ? {} : { now: options.now }),
    readListFile: (path) => {
      // List paths are relative to the policy file; an absolute path is taken as written.
      const full = isAbsolute(path) ? path : resolve(options.baseDir, path)
      return { text: readFileSync(full, 'utf8'), mtimeMs: statSync(full).mtimeMs }
    },
  })
}

function readPolicyText(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable'
    throw new PolicyInvalid(basename(path), [
      { severity: 'error', path: '(file)', message: `cannot read ${path} (${reason})` },
    ])
  }
}

/** Compiles policy text; list files resolve against `baseDir`. Throws `PolicyInvalid` with ALL problems. */
export function compilePolicy(
  text: string,
  options: { sourceName: string; baseDir: string; now?: Date },
): CompiledPolicy {
  const result = compileText(text, options)
  if (result.program === undefined) throw new PolicyInvalid(options.sourceName, result.diagnostics)
  return createCompiledPolicy(result.program)
}

/** Loads and compiles a policy file. Throws `PolicyInvalid` with ALL problems. */
export function loadPolicyFile(path: string, options: { now?: Date } = {}): CompiledPolicy {
  return compilePolicy(readPolicyText(path), {
    sourceName: path,
    baseDir: dirname(resolve(path)),
    ...options,
  })
}

/** Every diagnostic of a policy file, warnings included, for `policy check`. Throws only if unreadable. */
export function lintPolicy(path: string, options: { now?: Date } = {}): PolicyReport {
  const result = compileText(readPolicyText(path), {
    sourceName: path,
    baseDir: dirname(resolve(path)),
    ...options,
  })
  return {
    diagnostics: result.diagnostics,
    policy: result.program === undefined ? null : createCompiledPolicy(result.program),
  }
}

function readCasesFile(path: string): unknown {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable'
    throw new PolicyCasesInvalid(`cannot read cases file ${path} (${reason})`)
  }
  try {
    return parseYaml(text) as unknown
  } catch (error) {
    throw new PolicyCasesInvalid(
      `${path} is not valid YAML: ${error instanceof Error ? error.message.split('\n')[0] : ''}`,
    )
  }
}

/** A request payload file (JSON object), for fixtures and `policy explain --request`. */
export function readRequestPayload(path: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(readFileSync(path, 'utf8')) as unknown
  } catch {
    throw new PolicyCasesInvalid(`${path} is not a readable JSON file`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PolicyCasesInvalid(`${path} does not hold a JSON object`)
  }
  return value as Record<string, unknown>
}

/**
 * A fixture is a path when it looks like one (has a `/` or ends in `.json`, relative to the cases file);
 * otherwise a name looked up as `tx/<name>.json`, `config/<name>.json` or `<name>.json` in the fixtures
 * directory, then next to the cases file.
 */
function resolveFixture(
  spec: PolicyCaseSpec & { fixture: string },
  casesDir: string,
  fixturesDir: string,
): { path: string; family: PolicyCase['family'] } {
  const name = spec.fixture
  if (name.includes('/') || name.endsWith('.json')) {
    const path = resolve(casesDir, name)
    return { path, family: basename(dirname(path)) === 'config' ? 'config' : undefined }
  }
  const candidates: [string, PolicyCase['family']][] = [
    [join(fixturesDir, 'tx', `${name}.json`), 'tx'],
    [join(fixturesDir, 'config', `${name}.json`), 'config'],
    [join(fixturesDir, `${name}.json`), undefined],
    [join(casesDir, `${name}.json`), undefined],
  ]
  const found = candidates.find(([path]) => existsSync(path))
  if (found === undefined) {
    throw new PolicyCasesInvalid(
      `case "${spec.name}": no fixture "${name}" in ${fixturesDir} or next to the cases file`,
    )
  }
  return { path: found[0], family: found[1] }
}

/**
 * Reads a `policy test` cases file and resolves each case's payload. The fixtures directory is
 * `options.fixturesDir` if given, else the file's `fixtures:` (relative to it), else `defaultFixturesDir`.
 */
export function loadPolicyCases(
  path: string,
  options: { fixturesDir?: string; defaultFixturesDir: string },
): PolicyCase[] {
  const parsed = PolicyCasesSchema.safeParse(readCasesFile(path))
  if (!parsed.success) {
    throw new PolicyCasesInvalid(`${path}: ${formatZodIssues(parsed.error)[0]!}`)
  }
  const casesDir = dirname(resolve(path))
  const fixturesDir =
    options.fixturesDir ??
    (parsed.data.fixtures === undefined
      ? options.defaultFixturesDir
      : resolve(casesDir, parsed.data.fixtures))
  return parsed.data.cases.map((spec) => {
    if ((spec.fixture === undefined) === (spec.request === undefined)) {
      throw new PolicyCasesInvalid(`case "${spec.name}": give exactly one of \`fixture\` and \`request\``)
    }
    let payload: Record<string, unknown>
    let family: PolicyCase['family']
    if (spec.fixture === undefined) {
      payload = spec.request!
    } else {
      const fixture = resolveFixture({ ...spec, fixture: spec.fixture }, casesDir, fixturesDir)
      payload = readRequestPayload(fixture.path)
      family = fixture.family
    }
    return {
      spec,
      payload: spec.patch === undefined ? payload : mergePatch(payload, spec.patch),
      family,
      now: parsed.data.now,
    }
  })
}
