/** Node's `errno` code of a failed system call (`ENOENT`, `EACCES`, ...), or `undefined` for any other error. */
export function errnoCode(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined
  const code = (error as NodeJS.ErrnoException).code
  return typeof code === 'string' ? code : undefined
}

const FILE_ERROR_REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EEXIST: 'it already exists',
}

/**
 * Why a file operation failed, as a few words an operator can act on (`no such file`). Never the error's
 * message: it may repeat a path or content the caller chose not to show.
 */
export function describeFileError(error: unknown): string {
  const code = errnoCode(error)
  if (code === undefined) return 'I/O error'
  return FILE_ERROR_REASONS[code] ?? `I/O error (${code})`
}
