/** Levenshtein distance: insertions, deletions and substitutions, each costing one. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution))
    }
    previous = current
  }
  return previous[b.length]!
}

/**
 * The known key an unknown one was most likely meant to be (`cosigner` → `cosigners`), or `undefined` when
 * none is close: at most a third of the key's letters may differ (at least 2), compared case-insensitively.
 */
export function closestKey(unknown: string, known: readonly string[]): string | undefined {
  const budget = Math.max(2, Math.floor(unknown.length / 3))
  let best: { key: string; distance: number } | undefined
  for (const key of known) {
    const distance = editDistance(unknown.toLowerCase(), key.toLowerCase())
    if (distance <= budget && (best === undefined || distance < best.distance)) best = { key, distance }
  }
  return best?.key
}
