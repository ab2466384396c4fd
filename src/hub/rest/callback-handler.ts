import { X509Certificate } from 'node:crypto'
import { KeyMaterialKind, readKeyMaterial, spkiFingerprint } from '../../keys/index.js'
import { importRsaPublicKey } from '../../protocol/index.js'
import type { CallbackHandlerConfig } from '../../storage/index.js'
import { API_CODES, HubApiError } from './api-error.js'

/**
 * The callback handler of an API user, as the co-signers API takes it (`CallbackHandlerRequest { url,
 * publicKey?, cert? }`, hub-api.md §7) and shows it (`CallbackHandler { url, publicKey?, certPublicKeyHash? }`).
 * A handler is authenticated by its RSA public key (it signs its responses), by its pinned TLS certificate,
 * or by both (protocol.md §1.6): one of them is required, so a co-signer never trusts a handler it cannot
 * authenticate.
 */

const MAX_URL_LENGTH = 2048
const MAX_PEM_LENGTH = 16_384

const invalid = (message: string) => new HubApiError(400, API_CODES.validation, message)

const reasonOf = (error: unknown) => (error instanceof Error ? error.message : String(error))

function checkedUrl(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_URL_LENGTH)
    throw invalid(`callbackHandler.url must be an http or https URL of at most ${MAX_URL_LENGTH} characters`)
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw invalid(`callbackHandler.url is not a URL: ${value}`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw invalid(`callbackHandler.url must use https (or http), not ${url.protocol.slice(0, -1)}`)
  if (url.username !== '' || url.password !== '')
    throw invalid('callbackHandler.url must not carry credentials (user:password@)')
  return value
}

function pemText(value: unknown, field: string, label: string): string {
  if (typeof value !== 'string' || value.length > MAX_PEM_LENGTH || !value.includes('-----BEGIN '))
    throw invalid(`callbackHandler.${field} must be a PEM text (-----BEGIN ${label}-----)`)
  return value
}

/** The handler's RSA public key (2048 bits or more) as SPKI PEM. */
function checkedPublicKey(value: unknown): string {
  const pem = pemText(value, 'publicKey', 'PUBLIC KEY')
  try {
    const material = readKeyMaterial(pem, {
      label: 'callbackHandler.publicKey',
      expect: [KeyMaterialKind.publicKey],
    })
    const key = importRsaPublicKey(material.publicKey, 'callbackHandler.publicKey')
    return key.export({ type: 'spki', format: 'pem' }).toString()
  } catch (error) {
    throw invalid(`callbackHandler.publicKey is not usable: ${reasonOf(error)}`)
  }
}

/** The certificate in PEM, and the SHA-256 of its public key (`spkiFingerprint`, as openssl prints it). */
function checkedCert(value: unknown): { cert: string; certPublicKeyHash: string } {
  const pem = pemText(value, 'cert', 'CERTIFICATE')
  try {
    const certificate = new X509Certificate(pem)
    return { cert: certificate.toString(), certPublicKeyHash: spkiFingerprint(certificate.publicKey) }
  } catch (error) {
    throw invalid(`callbackHandler.cert is not an X.509 certificate: ${reasonOf(error)}`)
  }
}

/** Validates a `CallbackHandlerRequest`; every refusal is a 400 naming the field. */
export function callbackHandlerConfig(body: unknown): CallbackHandlerConfig {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalid('callbackHandler must be an object { url, publicKey? , cert? }')
  const { url, publicKey, cert } = body as Record<string, unknown>
  if (publicKey === undefined && cert === undefined)
    throw invalid('callbackHandler needs publicKey (PEM RSA public key) or cert (PEM certificate), or both')
  const pinned = cert === undefined ? undefined : checkedCert(cert)
  return {
    url: checkedUrl(url),
    publicKey: publicKey === undefined ? null : checkedPublicKey(publicKey),
    cert: pinned?.cert ?? null,
    certPublicKeyHash: pinned?.certPublicKeyHash ?? null,
  }
}

/** `CallbackHandler`, the read side: the certificate only as the hash of its public key. */
export function callbackHandlerView(handler: CallbackHandlerConfig) {
  return {
    url: handler.url,
    ...(handler.publicKey === null ? {} : { publicKey: handler.publicKey }),
    ...(handler.certPublicKeyHash === null ? {} : { certPublicKeyHash: handler.certPublicKeyHash }),
  }
}

/** `CallbackHandlerRequest`, as a pairing or an update echoes it (what the caller sent, normalised). */
export function callbackHandlerEcho(handler: CallbackHandlerConfig) {
  return {
    url: handler.url,
    ...(handler.publicKey === null ? {} : { publicKey: handler.publicKey }),
    ...(handler.cert === null ? {} : { cert: handler.cert }),
  }
}
