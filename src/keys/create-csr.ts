import { createPublicKey, sign, type KeyObject } from 'node:crypto'
import { CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr'
import { AsnConvert } from '@peculiar/asn1-schema'
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  Name as AsnName,
  RelativeDistinguishedName,
  SubjectPublicKeyInfo,
} from '@peculiar/asn1-x509'
import { importRsaPrivateKey } from '../protocol/index.js'
import { SubjectInvalid } from './errors.js'
import { writePem } from './pem.js'

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
 * The subject as an X.501 Name: one single-valued RDN per attribute, in the order given, each value with
 * the string type named above (as openssl writes it).
 */
function subjectName(attributes: readonly SubjectAttribute[]): AsnName {
  return new AsnName(
    attributes.map(({ type, value }) => {
      const { oid, stringType } = SUBJECT_ATTRIBUTES[type]
      const attribute = new AttributeTypeAndValue({
        type: oid,
        value: new AttributeValue({ [stringType]: value }),
      })
      return new RelativeDistinguishedName([attribute])
    }),
  )
}

/**
 * Creates a PKCS#10 certificate request (the CSR uploaded for a Fireblocks API user): version 0, the
 * subject, the key's SPKI, no attributes, signed with SHA-256 and PKCS#1 v1.5 as `openssl req` does.
 * Returns the PEM text.
 *
 * The structure is built with the ASN.1 schema classes of `@peculiar/asn1-*` and signed with
 * `node:crypto`, synchronously (as this function's callers are).
 */
export function createCsr(privateKey: KeyObject, subject: string | readonly SubjectAttribute[]): string {
  const key = importRsaPrivateKey(privateKey)
  const attributes = typeof subject === 'string' ? parseSubject(subject) : subject
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' })
  const info = new CertificationRequestInfo({
    subject: subjectName(attributes),
    subjectPKInfo: AsnConvert.parse(spki, SubjectPublicKeyInfo),
  })
  // RFC 4055 §5: the parameters of sha256WithRSAEncryption are an explicit NULL.
  const signatureAlgorithm = new AlgorithmIdentifier({ algorithm: SHA256_WITH_RSA_OID, parameters: null })
  const tbs = Buffer.from(AsnConvert.serialize(info))
  const request = new CertificationRequest({
    certificationRequestInfo: info,
    signatureAlgorithm,
    signature: new Uint8Array(sign('sha256', tbs, key)).buffer,
  })
  return writePem('CERTIFICATE REQUEST', Buffer.from(AsnConvert.serialize(request)))
}
