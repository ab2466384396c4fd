import type { RuleShape } from './first-match.js'

/**
 * Rules an earlier rule of the same section always catches: the earlier one has no `when`, and each of
 * its `match` fields is also constrained by the later rule to a subset of the values it allows. With
 * first-match semantics the later rule can never decide (the ordering trap of TAP-style policies).
 */
export function shadowedRules<R extends RuleShape>(
  rules: readonly R[],
): { readonly rule: R; readonly by: R }[] {
  const shadowed: { rule: R; by: R }[] = []
  rules.forEach((rule, index) => {
    const by = rules.slice(0, index).find((earlier) => earlier.when === undefined && covers(earlier, rule))
    if (by !== undefined) shadowed.push({ rule, by })
  })
  return shadowed
}

function covers(earlier: RuleShape, later: RuleShape): boolean {
  return earlier.match.every((clause) => {
    const constraint = later.match.find((candidate) => candidate.field === clause.field)
    return constraint !== undefined && [...constraint.values].every((value) => clause.values.has(value))
  })
}
