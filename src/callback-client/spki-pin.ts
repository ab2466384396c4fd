import { CallbackInputInvalid } from './errors.js'

/**
 * Certificate mode pins the handler's TLS public key by the SHA-256 of its SPKI in PEM form (the
 * `-----BEGIN PUBLIC KEY-----` text with its trailing newline): the value `countersign keys fingerprint
 * cert.pem` and `openssl x509 -pubkey -noout -in cert.pem | sha256sum` print, so an operator can copy it.
 * Accepts `ab12…`, `AB:12:…` or `sha256:ab12…`; returns 64 lowercase hex digits.
 */
export function normalizeSpkiPin(pin: string): string {
  const hex = pin
    .trim()
    .replace(/^sha256:/i, '')
    .replaceAll(':', '')
    .toLowerCase()
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new CallbackInputInvalid('the pin must be a SHA-256 of 64 hexadecimal digits (colons allowed)')
  }
  return hex
}
