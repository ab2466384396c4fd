/**
 * Keys tooling and REST API request authentication: RSA key pairs and CSRs for API users and callback
 * handlers, Ed25519/P-256 keys that sign approver votes and audit anchors, SPKI fingerprints byte-identical
 * to openssl's, the key-vs-CSR check, signing and verifying Fireblocks-style request JWTs, and the diagnosis
 * of a refused request.
 */
export { generateRsaKeyPair, API_USER_KEY_BITS, CALLBACK_KEY_BITS } from './generate-rsa-key-pair.js'
export type { RsaKeyPair } from './generate-rsa-key-pair.js'
export { createCsr, parseSubject } from './create-csr.js'
export type { SubjectAttribute } from './create-csr.js'
export { writePrivateKeyFile, writePublicFile } from './write-private-key-file.js'
export type { WriteFileOptions } from './write-private-key-file.js'
export { readKeyMaterial, readKeyMaterialFile, KeyMaterialKind } from './read-key-material.js'
export type { KeyMaterial, ReadKeyMaterialOptions } from './read-key-material.js'
export { spkiFingerprint } from './spki-fingerprint.js'
export { checkKeyMatch } from './check-key-match.js'
export type { KeyMatch } from './check-key-match.js'
export {
  AnchorInvalid,
  FileExists,
  KeyEncrypted,
  KeyUnreadable,
  StatementKeyUnsupported,
  SubjectInvalid,
  KEYS_ERRORS,
} from './errors.js'
export {
  generateStatementKeyPair,
  importStatementPublicKey,
  readStatementPrivateKey,
  readStatementPublicKey,
} from './statement-keys.js'
export type { StatementKeyPair } from './statement-keys.js'
export { checkVote, signVote, voteStatement, VOTE_WINDOW_MS } from './approver-vote.js'
export { checkPasskeyVote, encodePasskeyVote, isPasskeyVote, passkeyVoteChallenge } from './passkey-vote.js'
export type { PasskeyAssertion } from './passkey-vote.js'
export type { VoteExpectation, VoteFacts, VoteStatement } from './approver-vote.js'
export { readAnchor, signAnchor } from './audit-anchor.js'
export type { AnchorStatement, AuditAnchor } from './audit-anchor.js'
export type { KeysErrorCode } from './errors.js'
export { InMemoryNonceStore } from './nonce-store.js'
export type { NonceStore } from './nonce-store.js'
export { RequestAuthFailed, REQUEST_AUTH_FAILURES } from './request-auth-failed.js'
export type { RequestAuthFacts, RequestAuthReason } from './request-auth-failed.js'
export { signRequest, REQUEST_TOKEN_LIFETIME_SECONDS } from './sign-request.js'
export type { RequestClaims, SignRequestInput, SignedRequestHeaders } from './sign-request.js'
export { verifyRequest, DEFAULT_CLOCK_SKEW_SECONDS } from './verify-request.js'
export type {
  ApiUserKeys,
  RequestHeaders,
  SignedRequest,
  VerifiedRequest,
  VerifyRequestOptions,
} from './verify-request.js'
export { diagnoseRequest } from './diagnose-request.js'
export type { DiagnoseRequestInput, Diagnosis, DiagnosisCause, DiagnosisReason } from './diagnose-request.js'
