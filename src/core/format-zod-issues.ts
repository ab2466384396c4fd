/** The part of a zod issue the formatter reads (structural, so core does not depend on zod's types). */
export interface IssueLike {
  readonly path: readonly PropertyKey[]
  readonly message: string
}

/** One line per zod issue, `path.to.field: message`, with `(root)` for the value itself. */
export function formatZodIssues(error: { readonly issues: readonly IssueLike[] }): string[] {
  return error.issues.map((issue) => `${formatIssuePath(issue.path)}: ${issue.message}`)
}

/** `a.b.0.c`, or `(root)` for an empty path. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(root)' : path.map(String).join('.')
}
