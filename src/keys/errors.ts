import { CountersignError, defineErrorCodes } from '../core/index.js'

/** The codes of the keys tooling and REST request authentication. */
export const KEYS_ERRORS = defineErrorCodes('keys', {
  CS_KEY_UNREADABLE: {
    meaning: 'a key, certificate or CSR file cannot be read or is not the PEM/DER material expected',
    fix: 'check the path and that the file holds the expected kind of key or certificate',
  },
  CS_KEY_ENCRYPTED: {
    meaning: 'a private key file is encrypted and no passphrase was given',
    fix: 'give the passphrase (environment variable or prompt) or provide an unencrypted key',
  },
  CS_FILE_EXISTS: {
    meaning: 'an output file already exists and would be overwritten',
    fix: 'choose another path, or pass --force to replace it',
  },
  CS_REQUEST_AUTH: {
    meaning: 'a REST API request was refused by request authentication (JWT, claims, body hash, nonce)',
    fix: 'run countersign keys diagnose on the request; the detail names the failing check',
  },
  CS_SUBJECT_INVALID: {
    meaning: 'a CSR subject is not a list of ATTRIBUTE=value pairs with known attributes',
    fix: 'write the subject like /CN=api-user/O=Example',
  },
  CS_STATEMENT_KEY_UNSUPPORTED: {
    meaning: 'an approver or audit-anchor key is neither Ed25519 nor ECDSA P-256',
    fix: 'generate one with countersign keys generate --for approver --name NAME',
  },
  CS_AUDIT_ANCHOR_INVALID: {
    meaning:
      'an audit anchor file is not an anchor, was altered, or is not signed by the anchor key given with --anchor-key',
    fix: 'use an anchor written by countersign audit anchor and the public key of the key that signed it',
  },
})

export type KeysErrorCode = keyof typeof KEYS_ERRORS.codes

/** A file that is not a readable key, CSR or certificate: wrong type, truncated PEM, corrupt DER. */
export class KeyUnreadable extends CountersignError {
  readonly code = 'CS_KEY_UNREADABLE' satisfies KeysErrorCode
}

/** A private key protected by a passphrase that was not given, or that the given passphrase does not open. */
export class KeyEncrypted extends CountersignError {
  readonly code = 'CS_KEY_ENCRYPTED' satisfies KeysErrorCode
}

/** Refusing to replace an existing file (key material is never overwritten without an explicit force). */
export class FileExists extends CountersignError {
  readonly code = 'CS_FILE_EXISTS' satisfies KeysErrorCode
  readonly path: string

  constructor(path: string) {
    super(`${path} already exists; refusing to overwrite it (use --force to replace it)`)
    this.path = path
  }
}

/** A certificate subject that is not of the openssl form `/O=Acme/CN=treasury-bot`. */
export class SubjectInvalid extends CountersignError {
  readonly code = 'CS_SUBJECT_INVALID' satisfies KeysErrorCode
}

/** An approver or anchor key of a kind statements are not signed with (RSA, another curve). */
export class StatementKeyUnsupported extends CountersignError {
  readonly code = 'CS_STATEMENT_KEY_UNSUPPORTED' satisfies KeysErrorCode
}

/** An audit anchor that cannot be trusted: not an anchor, altered, or signed by another key. */
export class AnchorInvalid extends CountersignError {
  readonly code = 'CS_AUDIT_ANCHOR_INVALID' satisfies KeysErrorCode
}
