import canonicalize from 'canonicalize'
import { NotJson } from './errors.js'
import { isWellFormedText } from './text.js'

/**
 * RFC 8785 (JCS) canonical JSON: the same data always serialises to the same bytes (payload digests, audit
 * hashes). Serialisation is the maintained `canonicalize` package; a guard first refuses anything that is
 * not JSON data, which `JSON.stringify` would otherwise turn silently into `{}`, `null` or nothing (a
 * `Date`, a `Map`, an `undefined` member). Own members named `"__proto__"` (as `JSON.parse` creates them)
 * are data like any other and are kept: a digest must cover exactly the JSON that was signed.
 */
export function canonicalJson(value: unknown): string {
  assertJsonData(value)
  // canonicalize returns undefined only for values the guard has refused already.
  return canonicalize(value)!
}

/** Where a value sits in the document, kept as links to its parent: a path is spelt only for an error. */
interface Place {
  readonly parent: Place | undefined
  /** A member name, an array index, or nothing for the root. */
  readonly key: string | number | undefined
}

type Step = { readonly enter: unknown; readonly place: Place } | { readonly leave: object }

const ROOT: Place = { parent: undefined, key: undefined }

/** Throws `NotJson` naming the first place (`$.a[2].b`) where `value` is not plain JSON data. */
export function assertJsonData(value: unknown): void {
  // An explicit stack, so a deeply nested payload cannot overflow the call stack.
  const steps: Step[] = [{ enter: value, place: ROOT }]
  const ancestors = new Set<object>()
  while (steps.length > 0) {
    const step = steps.pop()!
    if ('leave' in step) {
      ancestors.delete(step.leave)
      continue
    }
    const children = jsonChildren(step.enter, step.place)
    if (children === undefined) continue
    const container = step.enter as object
    if (ancestors.has(container)) throw new NotJson(pathOf(step.place), 'a circular reference')
    ancestors.add(container)
    steps.push({ leave: container }, ...children.reverse())
  }
}

/** `$`, then `.name`, `["odd name"]` or `[index]` per level. */
function pathOf(place: Place): string {
  const parts: string[] = []
  for (let at: Place | undefined = place; at?.parent !== undefined; at = at.parent) {
    const { key } = at
    parts.push(
      typeof key === 'number'
        ? `[${key}]`
        : /^[A-Za-z_$][\w$]*$/.test(key!)
          ? `.${key}`
          : `[${JSON.stringify(key)}]`,
    )
  }
  return `$${parts.reverse().join('')}`
}

/** The members of a JSON container, `undefined` for a JSON primitive; throws for anything else. */
function jsonChildren(value: unknown, place: Place): Step[] | undefined {
  switch (typeof value) {
    case 'boolean':
      return undefined
    case 'string':
      if (!isWellFormedText(value)) throw new NotJson(pathOf(place), 'a string with a lone UTF-16 surrogate')
      return undefined
    case 'number':
      if (!Number.isFinite(value)) throw new NotJson(pathOf(place), String(value))
      return undefined
    case 'object':
      if (value === null) return undefined
      return Array.isArray(value) ? arrayChildren(value, place) : objectChildren(value, place)
    default:
      throw new NotJson(pathOf(place), value === undefined ? 'undefined' : `a ${typeof value}`)
  }
}

function arrayChildren(array: unknown[], parent: Place): Step[] {
  if (Object.getPrototypeOf(array) !== Array.prototype)
    throw new NotJson(pathOf(parent), describeInstance(array))
  const children: Step[] = []
  for (let index = 0; index < array.length; index++) {
    const place = { parent, key: index }
    if (!(index in array)) throw new NotJson(pathOf(place), 'an empty array slot')
    children.push({ enter: array[index], place })
  }
  return children
}

function objectChildren(object: object, parent: Place): Step[] {
  const prototype: unknown = Object.getPrototypeOf(object)
  if (prototype !== Object.prototype && prototype !== null)
    throw new NotJson(pathOf(parent), describeInstance(object))
  return Object.keys(object).map((key) => {
    const place = { parent, key }
    if (!isWellFormedText(key)) throw new NotJson(pathOf(place), 'a member name with a lone UTF-16 surrogate')
    // Own members only: for an own "__proto__" data property this reads the member, not the prototype.
    return { enter: (object as Record<string, unknown>)[key], place }
  })
}

function describeInstance(value: object): string {
  const name = (value.constructor as { name?: unknown } | undefined)?.name
  return typeof name === 'string' && name !== ''
    ? `an instance of ${name}`
    : 'an object with a custom prototype'
}
