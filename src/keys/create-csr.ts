import { createPublicKey, sign, type KeyObject } from 'node:crypto'
import { CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr'
import { AsnConvert } from '@peculiar/asn1-schema'
import { Name as AsnName, SubjectPublicKeyInfo } from '@peculiar/asn1-x509'
import { importRsaPrivateKey } from '../protocol/index.js'
import { SubjectInvalid } from './errors.js'
import { x509 } from './x509.js'

export const SHA256_WITH_RSA_OID = '1.2.840.113549.1.1.11'

/**
 * The attribute types a subject may use, with the ASN.1 string type openssl gives each (its default
 * `utf8only` mask: UTF8String, except PrintableString for the country and IA5String for e-mail).
 */
const SUBJECT_ATTRIBUTES = {
  C: { oid: '2.5.4.6', stringType: 'printableString', maxLength: 2 },
  ST: { oid: '2.5.4.8', stringType: 'utf8String', maxLength: 128 },
  L: { oid: '2.5.4.7', stringType: 'utf8String', maxLength: 128 },
  O: { oid: '2.5.4.10', stringType: 'utf8String', maxLength: 64 },
  OU: { oid: '2.5.4.11', stringType: 'utf8String', maxLength: 64 },
  CN: { oid: '2.5.4.3', stringType: 'utf8String', maxLength: 64 },
  serialNumber: { oid: '2.5.4.5', stringType: 'printableString', maxLength: 64 },
  emailAddress: { oid: '1.2.840.113549.1.9.1', stringType: 'ia5String', maxLength: 128 },
} as const
type SubjectAttributeType = keyof typeof SUBJECT_ATTRIBUTES

export interface SubjectAttribute {
  readonly type: SubjectAttributeType
  readonly value: string
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/

function isAttributeType(type: string): type is SubjectAttributeType {
  return Object.hasOwn(SUBJECT_ATTRIBUTES, type)
}

/** Splits on unescaped `/`; a backslash escapes the next character (`/O=A\/B` is the value `A/B`). */
function splitComponents(subject: string): string[] {
  const components: string[] = []
  let current = ''
  for (let i = 1; i < subject.length; i++) {
    const char = subject[i]
    if (char === '\\' && i + 1 < subject.length) current += subject[++i]
    else if (char === '/') {
      components.push(current)
      current = ''
    } else current += char
  }
  components.push(current)
  return components
}

/** Parses an openssl-style subject, `/O=Acme/CN=treasury-bot`, keeping the order given. */
export function parseSubject(subject: string): SubjectAttribute[] {
  if (!subject.startsWith('/')) {
    throw new SubjectInvalid(`subject "${subject}" must start with "/", as in /O=Acme/CN=treasury-bot`)
  }
  return splitComponents(subject).map((component) => {
    const equals = component.indexOf('=')
    const type = component.slice(0, Math.max(equals, 0)).trim()
    const value = component.slice(equals + 1)
    if (equals < 0 || !isAttributeType(type)) {
      throw new SubjectInvalid(
        `subject part "${component}" is not TYPE=VALUE with TYPE one of ${Object.keys(SUBJECT_ATTRIBUTES).join(', ')}`,
      )
    }
    const { stringType, maxLength } = SUBJECT_ATTRIBUTES[type]
    if (value.length === 0 || value.length > maxLength) {
      throw new SubjectInvalid(`subject ${type} must have 1 to ${maxLength} characters`)
    }
    if (stringType === 'printableString' && !PRINTABLE.test(value)) {
      throw new SubjectInvalid(
        `subject ${type} "${value}" may use only letters, digits, spaces and '()+,-./:=?`,
      )
    }
    if (stringType === 'ia5String' && !/^[\x20-\x7e]*$/.test(value)) {
      throw new SubjectInvalid(`subject ${type} "${value}" must be ASCII`)
    }
    return { type, value }
  })
}

/**
 * The subject as an X.501 Name built by `@peculiar/x509`: one single-valued RDN per attribute, in the
 * order given, each value with the string type named above (the library's string form would pick
 * PrintableString for any printable value, which is not what openssl writes).
 */
function subjectName(attributes: readonly SubjectAttribute[]): AsnName {
  const name = new x509.Name(
    attributes.map(({ type, value }) => {
      const { oid, stringType } = SUBJECT_ATTRIBUTES[type]
      return { [oid]: [{ [stringType]: value }] }
    }),
  )
  return AsnConvert.parse(name.toArrayBuffer(), AsnName)
}

/**
 * Creates a PKCS#10 certificate request (the CSR uploaded for a Fireblocks API user): version 0, the
 * subject, the key's SPKI, no attributes, signed with SHA-256 and PKCS#1 v1.5 as `openssl req` does.
 * Returns the PEM text.
 *
 * The structure is built with the ASN.1 schema classes `@peculiar/x509` itself uses, and signed with
 * `node:crypto`: the library's `Pkcs10CertificateRequestGenerator.create` signs through WebCrypto and is
 * therefore asynchronous, while this function (and its callers) are synchronous.
 */
export function createCsr(privateKey: KeyObject, subject: string | readonly SubjectAttribute[]): string {
  const key = importRsaPrivateKey(privateKey)
  const attributes = typeof subject === 'string' ? parseSubject(subject) : subject
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' })
  const info = new CertificationRequestInfo({
    subject: subjectName(attributes),
    subjectPKInfo: AsnConvert.parse(spki, SubjectPublicKeyInfo),
  })
  const signatureAlgorithm = new x509.AlgorithmProvider().toAsnAlgorithm({
    name: 'RSASSA-PKCS1-v1_5',
    hash: { name: 'SHA-256' },
  })
  const tbs = Buffer.from(AsnConvert.serialize(info))
  const request = new CertificationRequest({
    certificationRequestInfo: info,
    signatureAlgorithm,
    signature: new Uint8Array(sign('sha256', tbs, key)).buffer,
  })
  // The library's PEM has 64-column lines; openssl also ends the file with a line break.
  return `${new x509.Pkcs10CertificateRequest(request).toString('pem')}\n`
}
