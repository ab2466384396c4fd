import type { KeyObject } from 'node:crypto'
import { decodeJwt } from 'jose'
import { sha256Hex } from '../core/index.js'
import { EMPTY_BODY_HASHES } from './body-hash.js'
import { checkKeyMatch } from './check-key-match.js'
import type { Clock } from '../core/index.js'
import { InMemoryNonceStore } from './nonce-store.js'
import {
  REQUEST_AUTH_FAILURES,
  RequestAuthFailed,
  type RequestAuthFacts,
  type RequestAuthReason,
} from './request-auth-failed.js'
import { spkiFingerprint } from './spki-fingerprint.js'
import { DEFAULT_CLOCK_SKEW_SECONDS, evaluateRequest, type SkippableCheck } from './verify-request.js'

export interface DiagnoseRequestInput {
  /** The key registered for the API user: from its CSR, public key or certificate. */
  readonly registeredKey: KeyObject
  /** The key the caller believes signed the JWT (its private key, or that key's public half). */
  readonly signingKey?: KeyObject
  /** The JWT, with or without a leading "Bearer ". */
  readonly jwt: string
  /** The request's URL or path and query; without it the `uri` check is skipped. */
  readonly url?: string
  /** The exact body bytes sent; without it the `bodyHash` check is skipped. */
  readonly body?: Uint8Array
  /** The X-API-Key header sent; without it the JWT's own `sub` stands in and that check is skipped. */
  readonly apiKey?: string
  readonly clock?: Clock
  readonly clockSkewSeconds?: number
}

export type DiagnosisReason = RequestAuthReason | 'key_mismatch'

export interface DiagnosisCause {
  readonly reason: DiagnosisReason
  /** What Fireblocks would answer: `{"message": apiMessage, "code": apiCode}`. */
  readonly apiCode: number
  readonly apiMessage: string
  /** The cause in plain words. */
  readonly summary: string
  /** What to do about it. */
  readonly fix: string
  readonly facts: RequestAuthFacts
}

export interface Diagnosis {
  readonly accepted: boolean
  readonly cause: DiagnosisCause | undefined
  readonly fingerprints: { readonly registeredKey: string; readonly signingKey: string | undefined }
  readonly skipped: readonly (SkippableCheck | 'x_api_key')[]
  readonly notes: readonly string[]
}

/** The Python SDKs' `json.dumps`: `", "` and `": "` separators, non-ASCII escaped as `\uXXXX`. */
function spacedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(spacedJson).join(', ')}]`
  if (value !== null && typeof value === 'object') {
    const members = Object.entries(value).map(([key, member]) => `${spacedJson(key)}: ${spacedJson(member)}`)
    return `{${members.join(', ')}}`
  }
  return JSON.stringify(value).replace(
    /[\u0080-\uffff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}

function parseJson(body: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(body).toString('utf8')) as unknown
  } catch {
    return undefined
  }
}

/** Why the signed hash differs: another serialisation of the same JSON, or an empty body on one side. */
function explainBodyHash(signedHash: string, body: Uint8Array | undefined): string {
  const signed = signedHash.toLowerCase()
  if (body === undefined) return 'the JWT "bodyHash" does not match the body'
  if (body.length === 0)
    return 'the request has no body, but the JWT hashed one (or an unknown empty-body value)'
  if (EMPTY_BODY_HASHES.includes(signed)) return 'the request has a body, but the JWT hashed an empty body'
  const parsed = parseJson(body)
  if (parsed !== undefined) {
    const compact = JSON.stringify(parsed)
    const spaced = spacedJson(parsed)
    if (signed === sha256Hex(compact)) {
      return 'the JWT hashed the compact JSON serialisation of this body (as JSON.stringify writes it), but the bytes sent differ (spaced or re-ordered): hash the exact bytes you send'
    }
    if (signed === sha256Hex(spaced)) {
      return 'the JWT hashed the spaced JSON serialisation of this body (as Python json.dumps writes it), but the bytes sent differ (compact): hash the exact bytes you send'
    }
  }
  return 'the JWT hashed different bytes than the body sent (neither its compact nor its spaced JSON serialisation matches)'
}

function explainUri(signed: string, actual: string): string {
  const [signedPath = '', signedQuery] = signed.split('?', 2)
  const [actualPath = ''] = actual.split('?', 2)
  if (/^https?:\/\//i.test(signed))
    return 'the JWT signed the full URL; "uri" must be the path and query only'
  if (actualPath === `/v1${signedPath}`) return 'the signed uri lacks the /v1 prefix'
  if (signedPath === actualPath && signedQuery === undefined) return 'the query string was not signed'
  if (signedPath === actualPath) return 'the paths match but the query strings differ'
  return 'the signed path is a different path'
}

const skewOf = (input: DiagnoseRequestInput): number => input.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS

type Explanation = { summary: string; fix: string }
type ExplainContext = {
  facts: RequestAuthFacts
  detail: string
  input: DiagnoseRequestInput
  fingerprint: string
}

const EXPLANATIONS: Record<RequestAuthReason, (context: ExplainContext) => Explanation> = {
  unknown_api_key: ({ facts }) => ({
    summary: `No API user has the API key ${facts.apiKey ?? '(none sent)'}.`,
    fix: 'Send the API key of an existing API user in X-API-Key (and as "sub"), and point the client at the right server.',
  }),
  ip_not_allowed: ({ facts }) => ({
    summary: `The request came from ${facts.sourceIp ?? 'an address'}, which is not on the API user's IP allow-list.`,
    fix: "Call from an allow-listed address, or have the workspace Owner add this one to the API user's allow-list.",
  }),
  missing_jwt: () => ({
    summary: 'No JWT was given.',
    fix: 'Pass the token from the Authorization header (the part after "Bearer ").',
  }),
  malformed_token: () => ({
    summary: 'The token is not a JWT: three base64url parts with a JSON header and a JSON object payload.',
    fix: 'Pass the whole token, and build it with a JWT library rather than by hand.',
  }),
  algorithm_not_allowed: ({ facts }) => ({
    summary: `The JWT is signed with ${facts.algorithm ?? 'another algorithm'}; only RS256 is accepted.`,
    fix: "Sign with RS256 (RSASSA-PKCS1-v1_5 with SHA-256) using the API user's RSA private key.",
  }),
  missing_api_key: () => ({
    summary: 'The JWT has no "sub" claim holding the API key.',
    fix: 'Set "sub" to the API key, the same value as the X-API-Key header.',
  }),
  wrong_user: ({ facts }) => ({
    summary: `The JWT "sub" (${facts.sub ?? 'absent'}) differs from the X-API-Key header (${facts.apiKey ?? 'absent'}).`,
    fix: 'Send the same API key in "sub" and in X-API-Key: the API key of the API user whose CSR holds your key.',
  }),
  invalid_signature: ({ input, fingerprint }) => ({
    summary:
      input.signingKey === undefined
        ? 'The JWT signature does not verify with the registered key: it was signed with another key, or altered after signing.'
        : 'The JWT signature does not verify with the registered key, although the key given matches it: the JWT was signed with another key, or altered after signing.',
    fix: `Sign with the private key whose public key fingerprint is ${fingerprint} (check a key with "countersign keys check"), and do not change the token after signing.`,
  }),
  invalid_claims: ({ detail }) => ({
    summary: `The JWT is not built as required: ${detail}.`,
    fix: 'Set uri, nonce, iat, exp = iat + 55, sub and bodyHash, with iat and exp in whole seconds.',
  }),
  issued_in_future: ({ facts, input }) => ({
    summary:
      (facts.secondsAhead ?? 0) > 10_000_000_000
        ? 'The JWT "iat" is in milliseconds; it must be in seconds.'
        : `The JWT was issued ${facts.secondsAhead ?? '?'} s in the future by this machine's clock (${skewOf(input)} s of skew tolerated).`,
    fix: 'Set iat to the current Unix time in seconds, and synchronise the client clock (and this one) with NTP.',
  }),
  expired: ({ facts, input }) => ({
    summary: `The JWT expired ${facts.secondsPast ?? '?'} s ago by this machine's clock (${skewOf(input)} s of skew tolerated).`,
    fix: 'Create a new JWT for every request with exp = iat + 55, and synchronise the client clock with NTP.',
  }),
  wrong_uri: ({ facts }) => ({
    summary: `The signed uri "${facts.signedUri ?? ''}" is not the request's "${facts.actualUri ?? ''}": ${explainUri(facts.signedUri ?? '', facts.actualUri ?? '')}.`,
    fix: 'Sign exactly the path plus query string of the request, including the /v1 prefix.',
  }),
  body_hash_mismatch: ({ facts, input }) => ({
    summary: `The body hash differs: ${explainBodyHash(facts.signedBodyHash ?? '', input.body)}.`,
    fix: 'Serialise the body once, then hash and send those same bytes.',
  }),
  nonce_reused: () => ({
    summary: 'The nonce was already used by an accepted request.',
    fix: 'Use a new random nonce (a UUIDv4) for every request.',
  }),
}

function tokenSub(jwt: string): string | undefined {
  try {
    const { sub } = decodeJwt(jwt)
    return sub
  } catch {
    return undefined
  }
}

/**
 * Names the first reason a REST API request would be refused, in plain words with the fix. It runs the
 * checks of `verifyRequest` itself (against the registered key, a fresh nonce store), preceded by the most
 * common cause of "invalid signature": the private key does not belong to the registered CSR.
 */
export async function diagnoseRequest(input: DiagnoseRequestInput): Promise<Diagnosis> {
  const jwt = input.jwt.trim().replace(/^Bearer\s+/i, '')
  const registeredFingerprint = spkiFingerprint(input.registeredKey)
  const fingerprints = {
    registeredKey: registeredFingerprint,
    signingKey: input.signingKey === undefined ? undefined : spkiFingerprint(input.signingKey),
  }
  const apiKey = input.apiKey ?? tokenSub(jwt)
  const skipped: (SkippableCheck | 'x_api_key')[] = input.apiKey === undefined ? ['x_api_key'] : []
  const headers = { authorization: jwt.length > 0 ? `Bearer ${jwt}` : undefined, 'x-api-key': apiKey }

  let failure: RequestAuthFailed | undefined
  try {
    const evaluation = await evaluateRequest(
      { url: input.url, headers, body: input.body },
      {
        keys: { publicKeyFor: () => input.registeredKey },
        nonces: new InMemoryNonceStore(input.clock),
        ...(input.clock === undefined ? {} : { clock: input.clock }),
        ...(input.clockSkewSeconds === undefined ? {} : { clockSkewSeconds: input.clockSkewSeconds }),
      },
    )
    skipped.push(...evaluation.skipped)
  } catch (error) {
    if (!(error instanceof RequestAuthFailed)) throw error
    failure = error
  }

  const mismatch =
    input.signingKey !== undefined && !checkKeyMatch(input.signingKey, input.registeredKey).match
  if (failure === undefined) {
    // The JWT is sound; only the key file given to the diagnosis is another one.
    const keyNote = mismatch
      ? [
          `The private key given (${fingerprints.signingKey}) is not the registered key and did not sign this JWT.`,
        ]
      : []
    const notes = [...keyNote, ...skipped.map((check) => `Not checked: ${SKIPPED_NOTES[check]}.`)]
    return { accepted: true, cause: undefined, fingerprints, skipped, notes }
  }
  if (mismatch) {
    const { apiCode, apiMessage } = REQUEST_AUTH_FAILURES.invalid_signature
    const cause: DiagnosisCause = {
      reason: 'key_mismatch',
      apiCode,
      apiMessage,
      summary: `The private key does not belong to the registered CSR: key ${fingerprints.signingKey}, CSR ${registeredFingerprint}.`,
      fix: 'Find the private key whose fingerprint is the CSR\'s (compare with "countersign keys fingerprint"), or create a new API user with a CSR made from this key.',
      facts: {},
    }
    return { accepted: false, cause, fingerprints, skipped, notes: [] }
  }
  const explanation = EXPLANATIONS[failure.reason]({
    facts: failure.facts,
    detail: failure.detail,
    input,
    fingerprint: registeredFingerprint,
  })
  const cause: DiagnosisCause = {
    reason: failure.reason,
    apiCode: failure.apiCode,
    apiMessage: failure.message,
    ...explanation,
    facts: failure.facts,
  }
  return { accepted: false, cause, fingerprints, skipped, notes: [] }
}

const SKIPPED_NOTES: Record<SkippableCheck | 'x_api_key', string> = {
  uri: 'uri (give the request URL)',
  body_hash: 'bodyHash (give the request body, or the method of a body-less request)',
  x_api_key: '"sub" against the X-API-Key header (give the API key)',
}
