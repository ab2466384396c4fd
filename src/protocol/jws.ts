import { sign, verify, type KeyObject } from 'node:crypto'
import { JwtMalformed } from './errors.js'

/**
 * Compact RS256 JWS (RFC 7515) over `node:crypto` key objects: RSASSA-PKCS1-v1_5 with SHA-256 is what an
 * RSA key signs with by default. The callback form of `sign` runs the RSA private-key operation on the libuv
 * thread pool, straight from the `KeyObject`, without WebCrypto's per-call key conversion and job dispatch
 * (12 % of the handler's event loop when signing through jose). Only the framing is written here; the
 * cryptography is OpenSSL's. jose remains the reference: jws.test.ts checks both ways against it.
 */

/** Node's base64url decoder skips characters outside the alphabet; refusing them keeps tokens unique. */
const BASE64URL = /^[A-Za-z0-9_-]*$/

export interface CompactJws {
  readonly header: Record<string, unknown>
  /** The payload's bytes, decoded as UTF-8. */
  readonly payloadText: string
  /** `header.payload`, exactly as received: what the signature covers. */
  readonly signingInput: string
  readonly signature: Buffer
}

export function base64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

/** Splits and decodes a compact JWS; never verifies it. */
export function parseCompactJws(token: string): CompactJws {
  const parts = token.split('.')
  if (parts.length !== 3) throw new JwtMalformed('token is not a compact JWS of three parts')
  const [header, payload, signature] = parts as [string, string, string]
  if (!BASE64URL.test(header)) throw new JwtMalformed('token header is not base64url-encoded JSON')
  if (!BASE64URL.test(payload) || !BASE64URL.test(signature))
    throw new JwtMalformed('token is not a valid JWS: payload or signature is not base64url')
  return {
    header: parseHeader(header),
    payloadText: Buffer.from(payload, 'base64url').toString('utf8'),
    signingInput: `${header}.${payload}`,
    signature: Buffer.from(signature, 'base64url'),
  }
}

function parseHeader(encoded: string): Record<string, unknown> {
  let header: unknown
  try {
    header = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'))
  } catch (error) {
    throw new JwtMalformed('token header is not base64url-encoded JSON', { cause: error })
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    throw new JwtMalformed('token header is not base64url-encoded JSON')
  // A critical extension (RFC 7515 §4.1.11), b64=false among them, changes how a token must be read; the
  // callback protocol uses none, so a token naming one is refused rather than read the ordinary way.
  if ('crit' in header)
    throw new JwtMalformed('token header names critical extensions ("crit"): none is supported')
  return header as Record<string, unknown>
}

/** The RS256 signature of `signingInput`, base64url-encoded, computed on the thread pool. */
export function signRs256(signingInput: string, privateKey: KeyObject): Promise<string> {
  return new Promise((resolve, reject) =>
    sign('sha256', Buffer.from(signingInput), privateKey, (error, signature) =>
      error ? reject(error) : resolve(signature.toString('base64url')),
    ),
  )
}

/**
 * Whether `signature` is the RS256 signature of `signingInput` under `publicKey`. On the calling thread: a
 * public-key operation costs about 20 µs, less than handing it to the thread pool and back (about 15 µs of
 * extra CPU per call, measured), so only signing, fifteen times dearer, goes to the pool.
 */
export function verifyRs256Signature(signingInput: string, signature: Buffer, publicKey: KeyObject): boolean {
  return verify('sha256', Buffer.from(signingInput), publicKey, signature)
}
