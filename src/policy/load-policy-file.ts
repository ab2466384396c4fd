/**
 * The policy module's only file-system access: reading a policy file and the list files it names.
 * Everything else in the module is pure.
 */
import { readFileSync, statSync } from 'node:fs'
import { basename, dirname, isAbsolute, resolve } from 'node:path'
import { compilePolicySource, type CompileResult } from './compile-policy.js'
import { PolicyInvalid, type PolicyDiagnostic } from './errors.js'
import { createCompiledPolicy, type CompiledPolicy } from './evaluate-policy.js'

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
