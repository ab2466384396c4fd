import { CountersignError } from '../protocol/index.js'

/** A file that is not a readable key, CSR or certificate: wrong type, truncated PEM, corrupt DER. */
export class KeyUnreadable extends CountersignError {
  readonly code = 'CS_KEY_UNREADABLE'
}

/** A private key protected by a passphrase that was not given, or that the given passphrase does not open. */
export class KeyEncrypted extends CountersignError {
  readonly code = 'CS_KEY_ENCRYPTED'
}

/** Refusing to replace an existing file (key material is never overwritten without an explicit force). */
export class FileExists extends CountersignError {
  readonly code = 'CS_FILE_EXISTS'
  readonly path: string

  constructor(path: string) {
    super(`${path} already exists; refusing to overwrite it (use --force to replace it)`)
    this.path = path
  }
}

/** A certificate subject that is not of the openssl form `/O=Acme/CN=treasury-bot`. */
export class SubjectInvalid extends CountersignError {
  readonly code = 'CS_SUBJECT_INVALID'
}
