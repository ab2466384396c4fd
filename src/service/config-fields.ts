import { X509Certificate, createPrivateKey } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { z } from 'zod'
import { StartupFailed } from './errors.js'

/**
 * Values every service's configuration has: a listen address, TLS files, keys given as a path or inline
 * PEM, and a store URL. Relative paths are relative to the configuration file's folder.
 */
export const listenSchema = z.string()
export const tlsSchema = z.strictObject({
  cert: z.string().min(1),
  key: z.string().min(1),
  clientCa: z.string().min(1).optional(),
})
export const storeUrlSchema = z.string().min(1)
/** The admin listener (probes and metrics): its own address, plain HTTP unless `tls` is given. */
export const adminSchema = z.strictObject({ listen: listenSchema, tls: tlsSchema.optional() })

export interface ListenAddress {
  readonly host: string
  readonly port: number
}

export interface TlsFiles {
  readonly cert: string
  readonly key: string
  readonly clientCa?: string
}

/** Where the admin listener listens, resolved from `adminSchema`. */
export interface AdminAddress extends ListenAddress {
  readonly tls?: TlsFiles
}

export interface TlsMaterial {
  readonly cert: Buffer
  readonly key: Buffer
  readonly clientCa?: Buffer
}

export function resolvePath(path: string, baseDir: string): string {
  return isAbsolute(path) ? path : resolve(baseDir, path)
}

/** `HOST:PORT` (`[::1]:8443` for IPv6); `undefined` when the text is not one. */
export function parseListen(listen: string): ListenAddress | undefined {
  const match = /^(.+):(\d{1,5})$/.exec(listen)
  if (!match || Number(match[2]) > 65_535) return undefined
  return { host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port: Number(match[2]) }
}

/** A key given inline (`-----BEGIN ...`) or as a path relative to the config file. */
export function readKeyText(value: string, baseDir: string): string {
  return value.trimStart().startsWith('-----BEGIN')
    ? value
    : readFileSync(resolvePath(value, baseDir), 'utf8')
}

/** `sqlite:PATH` resolved against `baseDir`; `sqlite::memory:` and `postgres://` URLs unchanged. */
export function resolveStoreUrl(url: string, baseDir: string): string {
  if (!url.startsWith('sqlite:') || url === 'sqlite::memory:') return url
  return `sqlite:${resolvePath(url.slice('sqlite:'.length), baseDir)}`
}

/** A store URL fit for a log line or an error: a password never appears. */
export function redactStoreUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]*):[^@]*@/, '$1:***@')
}

export function resolveTlsFiles(files: z.infer<typeof tlsSchema>, baseDir: string): TlsFiles {
  return {
    cert: resolvePath(files.cert, baseDir),
    key: resolvePath(files.key, baseDir),
    ...(files.clientCa ? { clientCa: resolvePath(files.clientCa, baseDir) } : {}),
  }
}

/** The admin listener's address and TLS files; `undefined` when `listen` is not HOST:PORT. */
export function resolveAdmin(raw: z.infer<typeof adminSchema>, baseDir: string): AdminAddress | undefined {
  const listen = parseListen(raw.listen)
  if (!listen) return undefined
  return { ...listen, ...(raw.tls ? { tls: resolveTlsFiles(raw.tls, baseDir) } : {}) }
}

/**
 * Reads the TLS files and checks that the private key is the certificate's: Node would otherwise refuse
 * at listen time with an OpenSSL code that names neither file.
 */
export function readTlsMaterial(files: TlsFiles): TlsMaterial {
  const cert = readFileSync(files.cert)
  const key = readFileSync(files.key)
  if (!new X509Certificate(cert).checkPrivateKey(createPrivateKey(key))) {
    throw new StartupFailed(
      'CS_SERVICE_TLS_MISMATCH',
      `the TLS key ${files.key} does not match the certificate ${files.cert}; give the key the certificate was issued for, or the certificate of that key`,
    )
  }
  return { cert, key, ...(files.clientCa ? { clientCa: readFileSync(files.clientCa) } : {}) }
}
