import { CountersignError, defineErrorCodes } from '../core/index.js'

export const COSIGNER_ERRORS = defineErrorCodes('cosigner', {
  CS_COSIGNER_NOT_PAIRED: {
    meaning: 'the co-signer folder holds no pairing (no state.json, or one this version cannot read)',
    fix: 'pair it first: countersign cosigner pair --hub URL --pairing-token TOKEN --dir DIR',
  },
  CS_COSIGNER_ALREADY_PAIRED: {
    meaning: 'the co-signer folder is already paired with an API user',
    fix: 'use another folder for another API user, or --force to re-enrol this one with a new pairing token',
  },
})

export type CosignerErrorCode = keyof typeof COSIGNER_ERRORS.codes

export class NotPaired extends CountersignError {
  readonly code = 'CS_COSIGNER_NOT_PAIRED'
}

export class AlreadyPaired extends CountersignError {
  readonly code = 'CS_COSIGNER_ALREADY_PAIRED'
}
