import { CountersignError, defineErrorCodes } from '../core/index.js'

export const COSIGNER_ERRORS = defineErrorCodes('cosigner', {
  CS_COSIGNER_NOT_INITIALIZED: {
    meaning: 'the folder is not a co-signer folder (no cosigner.json), or one this version cannot read',
    fix: 'pair it first (countersign cosigner pair --dir DIR --hub URL --pairing-token TOKEN creates it), or give the right --dir',
  },
  CS_COSIGNER_LOCKED: {
    meaning: 'the co-signer is sealed under a passphrase or a PKCS#11 token and its secret was not given',
    fix: 'set COUNTERSIGN_COSIGNER_PASSPHRASE (or --passphrase-file) for a passphrase, COUNTERSIGN_PKCS11_PIN (or --pin-file) for a token',
  },
  CS_COSIGNER_NOT_PAIRED: {
    meaning: 'the co-signer holds no pairing with that API user (or with any)',
    fix: 'list its pairings (countersign cosigner api-users --dir DIR), or pair it: countersign cosigner pair --hub URL --pairing-token TOKEN',
  },
})

export type CosignerErrorCode = keyof typeof COSIGNER_ERRORS.codes

export class NotInitialized extends CountersignError {
  readonly code = 'CS_COSIGNER_NOT_INITIALIZED'
}

export class CosignerLocked extends CountersignError {
  readonly code = 'CS_COSIGNER_LOCKED'
}

export class NotPaired extends CountersignError {
  readonly code = 'CS_COSIGNER_NOT_PAIRED'
}
