import { dirname, resolve } from 'node:path'
import type { z } from 'zod'
import { ConfigInvalid, type ConfigProblem } from './errors.js'
import { describeError } from './describe-error.js'
import { substituteEnv } from './substitute-env.js'
import { readYamlSource, type KeyPath, type YamlSource } from './yaml-source.js'
import { problemsFromZod } from './zod-problems.js'

/**
 * How one service reads its configuration: a zod schema for the shape, then `compile` for the meaning
 * (files that must exist, keys that must be strong). Both report problems by key path; every problem of a
 * file is listed at once, with its line and column.
 */
export interface ConfigCompiler<Schema extends z.ZodType, Config> {
  readonly schema: Schema
  /** Top-level keys an environment variable overrides (`{ listen: 'COUNTERSIGN_LISTEN' }`). */
  readonly envOverrides?: Readonly<Record<string, string>>
  compile(raw: z.output<Schema>, context: CompileContext): Config
}

export interface CompileContext {
  /** The configuration file's folder: relative paths start there. */
  readonly baseDir: string
  problem(path: string, message: string, fix?: string): void
  /**
   * Runs `read` (a file to read, a key to import); a failure becomes a problem at `path` with the fix.
   * Skipped when the value named an unset `${VAR}`, which is reported already.
   */
  attempt<T>(path: string, fix: string, read: () => T): T | undefined
}

export interface CompileOptions {
  readonly baseDir: string
  readonly env: NodeJS.ProcessEnv
  /** The file the document came from, to give each problem its line and column. */
  readonly source?: YamlSource
}

function splitPath(path: string): KeyPath {
  return path === '' ? [] : path.split('.').map((step) => (/^\d+$/.test(step) ? Number(step) : step))
}

/** Compiles a parsed document (from a file or built in code); throws `ConfigInvalid` listing every problem. */
export function compileConfigDocument<Schema extends z.ZodType, Config>(
  compiler: ConfigCompiler<Schema, Config>,
  document: unknown,
  options: CompileOptions,
): Config {
  const { env, source, baseDir } = options
  const problems: ConfigProblem[] = []
  const overridden = new Set<string>()
  const substituted = substituteEnv(document ?? {}, env)
  const value: Record<string, unknown> = { ...(substituted.value as Record<string, unknown>) }
  for (const [key, variable] of Object.entries(compiler.envOverrides ?? {})) {
    if (!env[variable]) continue
    value[key] = env[variable]
    overridden.add(key)
  }
  const unsetPaths = new Set<string>()
  for (const unset of substituted.unset) {
    const path = unset.path.map(String).join('.')
    if (overridden.has(String(unset.path[0]))) continue
    unsetPaths.add(path)
    problems.push({
      path,
      message: `environment variable ${unset.name} is referenced but not set`,
      fix: `export ${unset.name}, or write the value in the file`,
    })
  }
  const hasUnset = (path: string) =>
    [...unsetPaths].some(
      (unset) => unset === path || unset.startsWith(`${path}.`) || path.startsWith(`${unset}.`),
    )

  const located = (): never => {
    throw new ConfigInvalid(
      problems.map((problem) => {
        if (source === undefined) return problem
        const top = problem.path.split('.')[0] ?? ''
        const position = overridden.has(top) ? undefined : source.locate(splitPath(problem.path))
        return { ...problem, file: source.file, ...(position ?? {}) }
      }),
    )
  }

  const parsed = compiler.schema.safeParse(value, { reportInput: true })
  if (!parsed.success) {
    problems.push(
      ...problemsFromZod(compiler.schema, parsed.error.issues).filter((problem) => !hasUnset(problem.path)),
    )
    return located()
  }
  const context: CompileContext = {
    baseDir,
    problem: (path, message, fix) => problems.push({ path, message, ...(fix ? { fix } : {}) }),
    attempt(path, fix, read) {
      if (hasUnset(path)) return undefined
      try {
        return read()
      } catch (error) {
        problems.push({ path, message: describeError(error), fix })
        return undefined
      }
    },
  }
  const config = compiler.compile(parsed.data, context)
  if (problems.length > 0) return located()
  return config
}

/** Reads a YAML configuration file and compiles it; relative paths in it are relative to its folder. */
export function loadConfig<Schema extends z.ZodType, Config>(
  compiler: ConfigCompiler<Schema, Config>,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): Config {
  const source = readYamlSource(file)
  return compileConfigDocument(compiler, source.value, { baseDir: dirname(resolve(file)), env, source })
}
