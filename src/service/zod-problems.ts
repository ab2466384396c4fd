import { z } from 'zod'
import { closestKey } from './closest-key.js'
import type { ConfigProblem } from './errors.js'
import type { KeyPath } from './yaml-source.js'

/** The object schema found at `path` inside `schema`, looking through optional, default and array wrappers. */
function objectAt(schema: z.ZodType, path: KeyPath): z.ZodObject | undefined {
  let current: z.ZodType | undefined = schema
  const unwrap = () => {
    while (
      current instanceof z.ZodOptional ||
      current instanceof z.ZodDefault ||
      current instanceof z.ZodNullable
    )
      current = current.unwrap() as z.ZodType
  }
  for (const step of path) {
    unwrap()
    if (current instanceof z.ZodObject) current = current.shape[String(step)] as z.ZodType | undefined
    else if (current instanceof z.ZodArray) current = current.element as z.ZodType
    else return undefined
  }
  unwrap()
  return current instanceof z.ZodObject ? current : undefined
}

function dotted(path: KeyPath): string {
  return path.map(String).join('.')
}

/** One problem per zod issue, named by key path; an unknown key comes with the closest known one. */
export function problemsFromZod(schema: z.ZodType, issues: readonly z.core.$ZodIssue[]): ConfigProblem[] {
  return issues.flatMap((issue): ConfigProblem[] => {
    const path = issue.path.filter((step): step is string | number => typeof step !== 'symbol')
    if (issue.code === 'unrecognized_keys') {
      const known = Object.keys(objectAt(schema, path)?.shape ?? {})
      return issue.keys.map((key) => {
        const suggestion = closestKey(key, known)
        return {
          path: dotted([...path, key]),
          message: 'unknown key',
          fix: suggestion
            ? `did you mean \`${suggestion}\`?`
            : `remove it (known keys here: ${known.join(', ') || 'none'})`,
        }
      })
    }
    if (issue.code === 'invalid_type' && issue.input === undefined)
      return [{ path: dotted(path), message: 'required key is missing', fix: `add it (${issue.expected})` }]
    return [{ path: dotted(path), ...inWords(issue) }]
  })
}

function kindOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'list'
  return typeof value === 'object' ? 'mapping' : typeof value
}

const EXPECTED_WORDS: Readonly<Record<string, string>> = { array: 'list', object: 'mapping' }
const expectedWord = (expected: string) => EXPECTED_WORDS[expected] ?? expected

/** A zod issue as a message in words and the fix, rather than zod's own text ("Invalid input"). */
function inWords(issue: z.core.$ZodIssue): { message: string; fix?: string } {
  if (issue.code === 'invalid_type') {
    const expected = expectedWord(issue.expected)
    const quote = expected === 'string' ? ' (in quotes if YAML would read it as a number or a boolean)' : ''
    return { message: `is a ${kindOf(issue.input)}, not a ${expected}`, fix: `write a ${expected}${quote}` }
  }
  if (issue.code === 'invalid_value')
    return {
      message: `${JSON.stringify(issue.input)} is not an allowed value`,
      fix: `use one of: ${issue.values.map(String).join(', ')}`,
    }
  if (issue.code === 'too_small')
    return issue.origin === 'array'
      ? { message: `needs at least ${issue.minimum} item(s)`, fix: 'add them' }
      : { message: `must be at least ${issue.minimum}`, fix: `write ${issue.minimum} or more` }
  if (issue.code === 'invalid_union') {
    const kinds = new Set(
      issue.errors
        .flat()
        .flatMap((inner) => (inner.code === 'invalid_type' ? [expectedWord(inner.expected)] : [])),
    )
    return {
      message: `is a ${kindOf(issue.input)}, which this key does not take`,
      ...(kinds.size > 0 ? { fix: `write a ${[...kinds].join(' or a ')}` } : {}),
    }
  }
  return { message: issue.message }
}
