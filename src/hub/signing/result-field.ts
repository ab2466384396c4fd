/** A text field of a link job's recorded result, or `fallback` when it is absent or not text. */
export function resultText(
  result: Readonly<Record<string, unknown>> | null,
  key: string,
  fallback = '',
): string {
  const value = result?.[key]
  return typeof value === 'string' ? value : fallback
}
