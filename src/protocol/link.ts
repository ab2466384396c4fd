import { z } from 'zod'

/**
 * The co-signer ↔ hub link (docs/cosigner-protocol.md): what a signing party and the hub send each other.
 * The signatures over these (the hub's Ed25519 service key) are applied and checked by the two sides; this
 * file only says what a well-formed message is.
 */
export const LINK_PATH_PREFIX = '/cosigner/v1'
export const LINK_MESSAGE_TYPE = 'countersign-link+jwt'
export const AUTHORIZATION_TYPE = 'countersign-authorization+jwt'
export const ACCESS_TOKEN_SECONDS = 300
export const PAIRING_TOKEN_SECONDS = 3600
export const MAX_LONG_POLL_SECONDS = 25
/** The mailbox pushed over a WebSocket: `GET` with `Authorization: Bearer`, `?after=<cursor>`. */
export const LINK_STREAM_PATH = `${LINK_PATH_PREFIX}/stream`
/** The largest WebSocket message either side accepts; a bigger one closes the socket (1009). */
export const LINK_MAX_FRAME_BYTES = 4 * 1024 * 1024

/** Why a side closes the link's WebSocket (docs/cosigner-protocol.md, "Push over a WebSocket"). */
export const LINK_CLOSE_CODES = {
  /** The party stops. */
  done: 1000,
  /** The hub is shutting down: reconnect, with backoff, to another replica or the restarted hub. */
  goingAway: 1001,
  /** The hub received a frame that is not an ack (not text, not JSON, not `{ "ack": "<cursor>" }`). */
  badFrame: 1008,
  /** A frame over LINK_MAX_FRAME_BYTES. */
  tooBig: 1009,
  /** The hub failed (its store): reconnect with backoff. */
  hubFailed: 1011,
  /** The access token expired, or its party was revoked or enrolled again: reconnect with a fresh token. */
  accessEnded: 4401,
} as const

/** The algorithms of the workspace keys, named as the Fireblocks API names them (`MPC_ECDSA_SECP256K1`...). */
export const SIGNING_ALGORITHMS = ['MPC_ECDSA_SECP256K1', 'MPC_EDDSA_ED25519'] as const
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number]

const Hex = z.string().regex(/^(?:[0-9a-f]{2})+$/, 'lowercase hex bytes')
const SessionHex = z.string().regex(/^[0-9a-f]{64}$/, '32 bytes in lowercase hex')
const Base64Url = z.string().regex(/^[A-Za-z0-9_-]+$/, 'base64url without padding')
const PartyName = z.string().min(1).max(64)
/** Non-hardened derivation: every index below 2^31. */
const DerivationPath = z.array(z.int().min(0).max(0x7fffffff)).max(10)
const Peers = z.record(PartyName, Base64Url)
const Holders = z.tuple([z.literal('cloud1'), z.literal('cloud2'), PartyName])

export const PairRequestSchema = z.strictObject({
  pairingToken: z.string().min(1).max(4096),
  partyKey: Base64Url,
  name: z.string().max(100).optional(),
  /** The API user's configuration-change key (Ed25519 public key): verifies its configuration approvals. */
  configKey: Base64Url.optional(),
})

export const PairResponseSchema = z.object({
  party: PartyName,
  cosignerId: z.string(),
  refreshToken: z.string(),
  hubKey: z.object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: Base64Url }),
  peers: Peers,
})

export const TokenRequestSchema = z.strictObject({ refreshToken: z.string().min(1).max(512) })
export const TokenResponseSchema = z.object({ accessToken: z.string(), expiresIn: z.int() })

export const KeygenBodySchema = z.object({
  job: z.string().min(1),
  algorithm: z.enum(SIGNING_ALGORITHMS),
  session: SessionHex,
  holders: Holders,
  peers: Peers,
  reshare: z.object({ dealers: z.array(PartyName).min(2), expectedPublicKey: Hex.optional() }).optional(),
})

export const SignBodySchema = z.object({
  job: z.string().min(1),
  txId: z.string().min(1),
  attempt: z.int().min(1),
  algorithm: z.enum(SIGNING_ALGORITHMS),
  path: DerivationPath,
  content: Hex,
  session: SessionHex,
  holders: Holders,
  peers: Peers,
  authorization: z.string().min(1),
})

/**
 * Asks the customer co-signer of `txId`'s signer to approve one signing attempt: it asks its callback
 * handler with `payload` (the `tx_sign_request` body, requestId and signerId included) and answers `done`
 * (approved), `declined` (rejected, with the reason) or `failed`. Only the `messages` listed here may then be
 * signed under this (txId, attempt).
 */
export const ApproveBodySchema = z.object({
  job: z.string().min(1),
  txId: z.string().min(1),
  attempt: z.int().min(1),
  requestId: z.string().min(1).max(256),
  algorithm: z.enum(SIGNING_ALGORITHMS),
  messages: z
    .array(z.object({ content: Hex, path: DerivationPath }))
    .min(1)
    .max(127),
  payload: z.record(z.string(), z.unknown()),
})

/**
 * Asks a customer co-signer to approve a configuration change on behalf of its API user: it asks its callback
 * handler with `payload` (a `config_change_sign_request`, protocol.md §3) and, on APPROVE, signs `statement`
 * (RFC 8785 canonical JSON) with the API user's configuration-change key; the result's `signature` is that
 * Ed25519 signature (128 hex digits), which the hub verifies before it counts the approval.
 */
export const ConfigBodySchema = z.object({
  job: z.string().min(1),
  requestId: z.string().min(1).max(256),
  payload: z.record(z.string(), z.unknown()),
  statement: z.record(z.string(), z.unknown()),
})

export const MpcBodySchema = z.object({
  session: SessionHex,
  from: PartyName,
  round: z.int().min(0),
  body: Base64Url,
})

export const CancelBodySchema = z.object({ job: z.string().min(1), reason: z.string() })

export const LinkMessageSchema = z.discriminatedUnion('kind', [
  z.object({
    id: z.string(),
    to: PartyName,
    iat: z.int(),
    kind: z.literal('keygen'),
    body: KeygenBodySchema,
  }),
  z.object({ id: z.string(), to: PartyName, iat: z.int(), kind: z.literal('sign'), body: SignBodySchema }),
  z.object({
    id: z.string(),
    to: PartyName,
    iat: z.int(),
    kind: z.literal('approve'),
    body: ApproveBodySchema,
  }),
  z.object({
    id: z.string(),
    to: PartyName,
    iat: z.int(),
    kind: z.literal('config'),
    body: ConfigBodySchema,
  }),
  z.object({ id: z.string(), to: PartyName, iat: z.int(), kind: z.literal('mpc'), body: MpcBodySchema }),
  z.object({
    id: z.string(),
    to: PartyName,
    iat: z.int(),
    kind: z.literal('cancel'),
    body: CancelBodySchema,
  }),
])

export const MailboxResponseSchema = z.object({
  messages: z.array(z.object({ cursor: z.string(), message: z.string() })),
  cursor: z.string(),
})

const CursorText = z.string().regex(/^\d{1,15}$/, 'a decimal cursor')
/** A frame the hub pushes: one mailbox message, exactly an item of the long-poll answer. */
export const StreamFrameSchema = z.object({ cursor: CursorText, message: z.string() })
/** The frame a party sends: everything up to `ack` is handled (as `POST /ack`). */
export const AckFrameSchema = z.strictObject({ ack: CursorText })

export const EnvelopesRequestSchema = z.strictObject({
  envelopes: z
    .array(z.strictObject({ session: SessionHex, to: PartyName, round: z.int().min(0), body: Base64Url }))
    .min(1)
    .max(16),
})

export const EcdsaSignatureSchema = z.strictObject({
  r: z.string().regex(/^[0-9a-f]{64}$/),
  s: z.string().regex(/^[0-9a-f]{64}$/),
  v: z.union([z.literal(0), z.literal(1)]),
})

export const ResultRequestSchema = z.strictObject({
  job: z.string().min(1),
  outcome: z.enum(['done', 'declined', 'failed']),
  reason: z.string().max(500).optional(),
  publicKey: Hex.optional(),
  chainCode: Hex.optional(),
  signature: z.union([EcdsaSignatureSchema, z.string().regex(/^[0-9a-f]{128}$/)]).optional(),
})

/** `GET /cosigner/v1/callback`: the party's callback handler as an Admin set it on the hub. */
export const CallbackHandlerSchema = z.object({
  url: z.string(),
  publicKey: z.string().optional(),
  cert: z.string().optional(),
  certPublicKeyHash: z.string().optional(),
})
/** The `code` of the 404 that says no callback handler is set for the party. */
export const NO_CALLBACK_HANDLER = 1513

export const AuthorizationSchema = z.object({
  txId: z.string().min(1),
  attempt: z.int().min(1),
  algorithm: z.enum(SIGNING_ALGORITHMS),
  signer: PartyName,
  ruleId: z.string().nullable(),
  messages: z
    .array(z.object({ content: Hex, path: DerivationPath, session: SessionHex }))
    .min(1)
    .max(127),
  iat: z.int(),
  exp: z.int(),
})

export type PairRequest = z.infer<typeof PairRequestSchema>
export type PairResponse = z.infer<typeof PairResponseSchema>
export type KeygenBody = z.infer<typeof KeygenBodySchema>
export type SignBody = z.infer<typeof SignBodySchema>
export type ApproveBody = z.infer<typeof ApproveBodySchema>
export type ConfigBody = z.infer<typeof ConfigBodySchema>
export type MpcBody = z.infer<typeof MpcBodySchema>
export type LinkMessage = z.infer<typeof LinkMessageSchema>
export type MailboxResponse = z.infer<typeof MailboxResponseSchema>
export type StreamFrame = z.infer<typeof StreamFrameSchema>
export type AckFrame = z.infer<typeof AckFrameSchema>
export type EnvelopesRequest = z.infer<typeof EnvelopesRequestSchema>
export type ResultRequest = z.infer<typeof ResultRequestSchema>
export type Authorization = z.infer<typeof AuthorizationSchema>
export type CallbackHandlerWire = z.infer<typeof CallbackHandlerSchema>
export type EcdsaSignatureWire = z.infer<typeof EcdsaSignatureSchema>
