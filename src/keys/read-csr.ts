import { createPublicKey, verify, type KeyObject } from 'node:crypto'
import { CertificationRequest } from '@peculiar/asn1-csr'
import { AsnConvert } from '@peculiar/asn1-schema'
import { SHA256_WITH_RSA_OID } from './create-csr.js'

/**
 * Signature algorithms a CSR may be self-signed with, by OID, and the digest Node needs to verify them
 * (`null`: the algorithm fixes its own, as Ed25519 does). RSA-PSS is absent: openssl never picks it by default.
 */
const CSR_SIGNATURE_ALGORITHMS: ReadonlyMap<string, string | null> = new Map([
  ['1.2.840.113549.1.1.5', 'sha1'],
  ['1.2.840.113549.1.1.14', 'sha224'],
  [SHA256_WITH_RSA_OID, 'sha256'],
  ['1.2.840.113549.1.1.12', 'sha384'],
  ['1.2.840.113549.1.1.13', 'sha512'],
  ['1.2.840.10045.4.3.2', 'sha256'],
  ['1.2.840.10045.4.3.3', 'sha384'],
  ['1.2.840.10045.4.3.4', 'sha512'],
  ['1.3.101.112', null],
])

/** The request parsed, but its self-signature fails: it was altered, whatever else it looks like. */
export class CsrSignatureInvalid extends RangeError {}

/**
 * Reads a DER PKCS#10 request and returns its public key, after checking the request's self-signature: a
 * CSR whose signature fails was altered, and the key it names must not be trusted.
 *
 * The request is parsed with the `CertificationRequest` schema of `@peculiar/asn1-csr`, which keeps the
 * certificationRequestInfo bytes exactly as read; the signature is checked with `node:crypto`,
 * synchronously (reading key material is synchronous).
 *
 * The parser accepts BER (non-minimal and indefinite lengths) and ignores trailing bytes, so the request
 * is refused unless the library's DER re-encoding of what it parsed is the input, byte for byte.
 */
export function readCsr(der: Buffer): KeyObject {
  let request: CertificationRequest
  try {
    request = AsnConvert.parse(der, CertificationRequest)
  } catch (error) {
    throw new RangeError(`invalid CSR: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    })
  }
  if (!Buffer.from(AsnConvert.serialize(request)).equals(der)) {
    throw new RangeError('invalid CSR: not DER (non-minimal or indefinite lengths, or trailing bytes)')
  }
  const info = request.certificationRequestInfo
  if (info.version !== 0) throw new RangeError('unknown CSR version')
  const publicKey = createPublicKey({
    key: Buffer.from(AsnConvert.serialize(info.subjectPKInfo)),
    format: 'der',
    type: 'spki',
  })
  const digest = CSR_SIGNATURE_ALGORITHMS.get(request.signatureAlgorithm.algorithm)
  if (digest === undefined) throw new RangeError('the CSR is signed with an unsupported algorithm')
  const signed = Buffer.from(request.certificationRequestInfoRaw ?? AsnConvert.serialize(info))
  if (!verify(digest, signed, publicKey, Buffer.from(request.signature))) {
    throw new CsrSignatureInvalid(
      "the CSR's signature does not verify with its own key (the CSR was altered)",
    )
  }
  return publicKey
}
