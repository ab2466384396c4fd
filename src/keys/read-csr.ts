import { createPublicKey, verify, type KeyObject } from 'node:crypto'
import { SHA256_WITH_RSA_OID } from './create-csr.js'
import { DerTag, encodeOid, readDer, readDerChildren } from './der.js'

/**
 * Signature algorithms a CSR may be self-signed with, by OID, and the digest Node needs to verify them
 * (`null`: the algorithm fixes its own, as Ed25519 does). RSA-PSS is absent: openssl never picks it by default.
 */
const CSR_SIGNATURE_ALGORITHMS: ReadonlyMap<string, string | null> = new Map(
  [
    ['1.2.840.113549.1.1.5', 'sha1'],
    ['1.2.840.113549.1.1.14', 'sha224'],
    [SHA256_WITH_RSA_OID, 'sha256'],
    ['1.2.840.113549.1.1.12', 'sha384'],
    ['1.2.840.113549.1.1.13', 'sha512'],
    ['1.2.840.10045.4.3.2', 'sha256'],
    ['1.2.840.10045.4.3.3', 'sha384'],
    ['1.2.840.10045.4.3.4', 'sha512'],
    ['1.3.101.112', null],
  ].map(([oid, digest]) => [encodeOid(oid as string).toString('hex'), digest as string | null]),
)

/** The request parsed, but its self-signature fails: it was altered, whatever else it looks like. */
export class CsrSignatureInvalid extends RangeError {}

/**
 * Reads a DER PKCS#10 request and returns its public key, after checking the request's self-signature: a
 * CSR whose signature fails was altered, and the key it names must not be trusted.
 */
export function readCsr(der: Buffer): KeyObject {
  const request = readDer(der, DerTag.sequence)
  const [info, algorithm, signature] = readDerChildren(request, [
    DerTag.sequence,
    DerTag.sequence,
    DerTag.bitString,
  ])
  const [version, , spki] = readDerChildren(info!, [DerTag.integer, DerTag.sequence, DerTag.sequence])
  if (version!.content.length !== 1 || version!.content[0] !== 0) throw new RangeError('unknown CSR version')
  const publicKey = createPublicKey({ key: spki!.encoded, format: 'der', type: 'spki' })
  const [oid] = readDerChildren(algorithm!, [DerTag.oid])
  const digest = CSR_SIGNATURE_ALGORITHMS.get(oid!.encoded.toString('hex'))
  if (digest === undefined) throw new RangeError('the CSR is signed with an unsupported algorithm')
  if (signature!.content[0] !== 0) throw new RangeError('malformed CSR signature')
  if (!verify(digest, info!.encoded, publicKey, signature!.content.subarray(1))) {
    throw new CsrSignatureInvalid(
      "the CSR's signature does not verify with its own key (the CSR was altered)",
    )
  }
  return publicKey
}
