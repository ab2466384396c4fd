import { CountersignError, defineErrorCodes } from '../core/index.js'

/** The codes of the envelope encryption of records and of the key-encryption providers. */
export const SEAL_ERRORS = defineErrorCodes('seal', {
  CS_SEAL_WRONG_KEK: {
    meaning:
      "the key-encryption key given (KEK file, passphrase or PKCS#11 key) does not unwrap the keyring's data key",
    fix: 'give the KEK this keyring was created or last rewrapped with; a keyring copied without its KEK cannot be opened',
  },
  CS_SEAL_FOREIGN_RECORD: {
    meaning:
      "a sealed record carries another keyring's key id: the store was copied from elsewhere or the keyring was replaced",
    fix: 'open the store with the keyring (and KEK) it was sealed under; never replace a keyring that has records',
  },
  CS_SEAL_TAMPERED: {
    meaning:
      'a sealed record fails authentication: altered, truncated, or moved to another table, id or version',
    fix: 'restore the record from a backup; the error names its table and id, never its content',
  },
  CS_SEAL_KEYRING_INVALID: {
    meaning:
      'the keyring file is missing, unreadable or unwritable, not a keyring, of an unknown format version, or altered',
    fix: 'check the keyring path; create a keyring only for a new store, and restore an altered one from a backup',
  },
  CS_SEAL_KEYRING_EXISTS: {
    meaning: 'a new keyring was asked for where one already exists (replacing it would orphan every record)',
    fix: 'open the existing keyring, or choose another path for a new store',
  },
  CS_SEAL_PROVIDER_MISMATCH: {
    meaning: 'the keyring was wrapped by another kind of key-encryption provider than the one given',
    fix: 'open it with the provider named in the error, then rewrap it if you want to change provider',
  },
  CS_SEAL_KEK_FILE: {
    meaning:
      'the KEK file is missing, unreadable or unwritable, not exactly 32 bytes, or readable by group or others',
    fix: 'chmod 600 the file if its mode is too wide; create a KEK file with create: true (never by hand in a shared folder)',
  },
  CS_SEAL_PASSPHRASE: {
    meaning: 'the passphrase is empty, or the scrypt parameters are below N = 2^15 or out of range',
    fix: 'give a non-empty passphrase; keep the scrypt parameters the keyring was written with',
  },
  CS_SEAL_PKCS11_UNAVAILABLE: {
    meaning:
      'the PKCS#11 provider cannot start: the pkcs11js package is not installed or built, or the module library cannot be loaded',
    fix: 'install build tools (g++, make, python3) and run npm rebuild pkcs11js; check the library path (SoftHSM2: apt-get install softhsm2)',
  },
  CS_SEAL_PKCS11_TOKEN_NOT_FOUND: {
    meaning: 'no initialised token has the label given',
    fix: 'use one of the labels the error lists, or initialise a token with that label (softhsm2-util --init-token)',
  },
  CS_SEAL_PKCS11_PIN: {
    meaning: 'the token refused the user PIN (incorrect, expired or locked)',
    fix: 'give the user PIN of this token; a locked PIN is reset by the security officer',
  },
  CS_SEAL_PKCS11_KEY_NOT_FOUND: {
    meaning: 'the token holds no AES secret key with the label given',
    fix: 'create it once with createPkcs11Key (see docs/sealing.md), or give the label of the existing key',
  },
  CS_SEAL_PKCS11_KEY_EXISTS: {
    meaning:
      'an AES key with this label already exists (creating another would make the label ambiguous), or the label names several keys',
    fix: 'use the existing key, or choose a label no other key on the token has',
  },
  CS_SEAL_PKCS11_FAILED: {
    meaning: 'a PKCS#11 call failed for another reason; the error names the function and the CKR_ code',
    fix: "look the CKR_ code up in the token's documentation; check the token is present and the session still open",
  },
  CS_SEAL_CLOSED: {
    meaning: 'a sealer or provider was used after close()',
    fix: 'open a new one; close only when the store is no longer used',
  },
  CS_SEAL_BAD_INPUT: {
    meaning:
      'a record reference is invalid: empty or ill-formed table or id, or a version that is not a non-negative safe integer',
    fix: 'pass a non-empty well-formed table and id and an integer version of at least 0',
  },
})
export type SealErrorCode = keyof typeof SEAL_ERRORS.codes

/** Where a record lives: its table, its id and its version. Each is bound into the record's encryption. */
export interface RecordRef {
  readonly table: string
  readonly id: string
  readonly version: number
}

/**
 * Every failure of `src/seal`. `record` names the record at fault (table, id, version), never its content;
 * messages never carry a key, a passphrase or a PIN.
 */
export class SealError extends CountersignError {
  readonly code: SealErrorCode
  readonly record: RecordRef | undefined

  constructor(code: SealErrorCode, message: string, options?: { record?: RecordRef; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.record = options?.record
  }
}
