import { CountersignError } from '../core/index.js'

const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ENOENT: 'not found',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a folder, not a file',
  ENOTDIR: 'a part of the path is not a folder',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host name not found',
  ETIMEDOUT: 'timed out',
  EADDRINUSE: 'address in use',
  EADDRNOTAVAIL: 'address not available on this machine',
}

function stringField(value: unknown, field: string): string | undefined {
  const found = (value as Record<string, unknown> | null)?.[field]
  return typeof found === 'string' ? found : undefined
}

/**
 * One short line for an error whose text is safe to show an operator: a Countersign error's message, or an
 * errno code in words (`not found (ENOENT) at /etc/x.pem`). Other errors are named by their class only,
 * since their messages may carry anything.
 */
export function describeError(error: unknown): string {
  const code = stringField(error, 'code')
  // Modules still on the protocol's error base are ours too: their messages are written to be shown.
  if (error instanceof CountersignError || (error instanceof Error && code?.startsWith('CS_')))
    return error.message
  if (code !== undefined && ERRNO_TEXT[code] !== undefined) {
    const path = stringField(error, 'path')
    const address = stringField(error, 'address')
    const port = (error as { port?: unknown }).port
    const where = path ?? (address ? `${address}${typeof port === 'number' ? `:${port}` : ''}` : undefined)
    return `${ERRNO_TEXT[code]} (${code})${where ? ` at ${where}` : ''}`
  }
  if (code !== undefined) return code
  return error instanceof Error ? error.name : typeof error
}
