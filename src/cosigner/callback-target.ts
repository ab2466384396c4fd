import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto'
import { z } from 'zod'
import { spkiFingerprint } from '../keys/index.js'

/**
 * Where an API user's callback handler is and how it is authenticated (protocol.md §1): public-key mode
 * (RS256 JWTs both ways; its public key verifies its answers) or certificate mode (JSON over a TLS
 * connection pinned to its certificate's key). Set locally (`countersign cosigner callback set`), or by an
 * Admin through the hub's co-signers API; a local setting wins, since it is the customer's own.
 */
export const CallbackSettingSchema = z
  .strictObject({
    url: z.url({ protocol: /^https?$/ }),
    publicKey: z.string().includes('BEGIN PUBLIC KEY').optional(),
    cert: z.string().includes('BEGIN CERTIFICATE').optional(),
  })
  .refine((setting) => (setting.publicKey === undefined) !== (setting.cert === undefined), {
    message: 'give the handler public key or its certificate, one of the two',
  })
export type CallbackSetting = z.infer<typeof CallbackSettingSchema>

export type CallbackTarget =
  | {
      readonly mode: 'jwt'
      readonly url: string
      readonly handlerPublicKey: KeyObject
    }
  | {
      readonly mode: 'certificate'
      readonly url: string
      /** SHA-256 of the certificate's SPKI (PEM), as `countersign keys fingerprint` prints it. */
      readonly pinnedSpkiSha256: string
      /** The certificate itself, trusted as the handler's CA (a self-signed handler certificate). */
      readonly trustedCa: string
    }

export function callbackTarget(setting: CallbackSetting): CallbackTarget {
  if (setting.publicKey !== undefined)
    return { mode: 'jwt', url: setting.url, handlerPublicKey: createPublicKey(setting.publicKey) }
  const certificate = new X509Certificate(setting.cert as string)
  return {
    mode: 'certificate',
    url: setting.url,
    pinnedSpkiSha256: spkiFingerprint(certificate.publicKey),
    trustedCa: certificate.toString(),
  }
}
