import { CountersignError, defineErrorCodes } from '../core/index.js'

export const MPC_ERRORS = defineErrorCodes('mpc', {
  CS_MPC_TOPOLOGY: {
    meaning:
      'the parameters ask for something other than a 3-of-3 set {cloud1, cloud2, customer} (t < 2 gives every party the whole key)',
    fix: 'use exactly three distinct holders: cloud1, cloud2 and one customer co-signer, threshold 3',
  },
  CS_MPC_BAD_MESSAGE: {
    meaning: 'an inbound protocol message failed decoding, authentication or schema validation',
    fix: 'the message was dropped before reaching the cryptographic library; check the relay and the peer named in the error',
  },
  CS_MPC_PEER_CHEATED: {
    meaning: 'a consistency check of the protocol failed; the session is retired',
    fix: 'start a new session with a fresh id; if the same party is named again, suspend it and investigate',
  },
  CS_MPC_MESSAGE_MISSING: {
    meaning: 'the round cannot complete because a counterparty has not sent its message',
    fix: 'check the named parties are online and the relay delivers; start a new session with a fresh id',
  },
  CS_MPC_SESSION_FINISHED: {
    meaning: 'the session already finished or failed and its state was destroyed',
    fix: 'start a new session with a fresh id; signing state is never used twice',
  },
  CS_MPC_PRESIGNATURE_USED: {
    meaning:
      'the pre-signature or nonce is unknown or was already used (reusing one reveals the private key)',
    fix: 'run a new pre-signature session and sign with its id',
  },
  CS_MPC_KEY_MISMATCH: {
    meaning: 'the key produced by resharing or a signature does not match the expected public key',
    fix: 'the dealers disagree or one cheated; do not use the new set, rerun the reshare with a fresh session id',
  },
  CS_MPC_BAD_INPUT: {
    meaning: 'a local argument (derivation path, hash length, serialised state) is invalid',
    fix: 'pass a 32-byte hash, non-hardened indices below 2^31, and state produced by this module',
  },
})
export type MpcErrorCode = keyof typeof MPC_ERRORS.codes

/** Every failure of `src/mpc`; `party` names the counterparty at fault when the protocol can attribute it. */
export class MpcError extends CountersignError {
  readonly code: MpcErrorCode
  readonly party: string | undefined

  constructor(code: MpcErrorCode, message: string, options?: { party?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.party = options?.party
  }
}
