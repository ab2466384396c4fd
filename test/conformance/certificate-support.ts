/** What the certificate-mode conformance tests share: the signature-only check ids and the pin of a cert. */
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { spkiFingerprint } from '../../src/keys/index.js'

/** The attacks on request signatures, in suite order: JWT mode only. */
export const ATTACK_CHECKS = [
  'forged-signature',
  'tampered-payload',
  'alg-none',
  'hs256-public-key',
  'truncated-token',
  'unsigned-json',
] as const

/** Every check that needs signatures, in suite order: reported SKIP in certificate mode. */
export const SIGNATURE_CHECKS: readonly string[] = ['signed-by-handler-key', ...ATTACK_CHECKS]

/** The pin of a certificate file: the SHA-256 of its public key's SPKI PEM. */
export function pinOf(certFile: string): string {
  return spkiFingerprint(new X509Certificate(readFileSync(certFile)).publicKey)
}
