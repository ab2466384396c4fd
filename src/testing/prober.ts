import { createPublicKey, type KeyObject } from 'node:crypto'
import {
  signCallbackRequest,
  type AuthMode,
  type CallbackResponse,
  type CallbackRoute,
} from '../protocol/index.js'
import {
  CallbackTransportFailure,
  handlerUrl,
  normalizeSpkiPin,
  postCallback,
  readReply,
  type ReadReply,
} from '../callback-client/index.js'
import { claimedAction } from './claimed-action.js'

interface TargetBase {
  /** The BASE URL configured in the co-signer. */
  readonly url: string
  readonly signerId?: string
  /** Per-request deadline; the co-signer's is 30 s. */
  readonly timeoutMs?: number
  /** Certificates (PEM) trusted instead of the system's CAs: a handler on a private CA or self-signed. */
  readonly trustedCa?: string
}

/**
 * A handler under test, named only by URL and keys (JWT mode) or URL and TLS pin (certificate mode), so a
 * handler in any language can be graded.
 */
export type ConformanceTarget = TargetBase &
  (
    | {
        readonly mode?: 'jwt'
        readonly cosignerKey: KeyObject
        readonly handlerPublicKey: KeyObject
        /** Optional over https: the handler's TLS key pinned as in certificate mode. */
        readonly pinnedSpkiSha256?: string
      }
    | {
        readonly mode: 'certificate'
        /** SHA-256 of the handler's TLS SPKI PEM (any form `normalizeSpkiPin` accepts). */
        readonly pinnedSpkiSha256: string
      }
  )

/** What one request got back, read the way a co-signer reads it. */
export interface Probe {
  readonly mode: AuthMode
  /** Undefined when no HTTP answer came at all. */
  readonly status: number | undefined
  readonly transportError: string | undefined
  /** True when the handler's TLS key did not match the pin, so nothing was sent. */
  readonly pinMismatch: boolean
  readonly read: ReadReply | undefined
  /** The action the answer claims, read without verifying it (any key casing). */
  readonly claimedAction: string | undefined
}

/** The keys only JWT mode has: forgeries are built from them. */
export interface JwtKeys {
  readonly cosignerKey: KeyObject
  readonly cosignerPublicKey: KeyObject
}

export interface Prober {
  readonly target: ConformanceTarget
  readonly mode: AuthMode
  /** The normalized pin: always in certificate mode, when given in JWT mode. */
  readonly pin: string | undefined
  /** The body a co-signer sends for `payload`: a signed JWT, or the JSON itself in certificate mode. */
  encode(payload: unknown): Promise<string>
  /** Posts `body` to the mode's route as is. */
  raw(route: CallbackRoute, body: string, contentType?: string): Promise<Probe>
  /** Encodes `payload` as a co-signer would and posts it. */
  send(route: CallbackRoute, payload: unknown): Promise<Probe>
  /** The JWT-mode keys; only checks restricted to JWT mode call it. */
  jwtKeys(): JwtKeys
  /** Every requestId sent so far, in order: the handler has recorded a decision for each it accepted. */
  readonly requestIds: readonly string[]
  /** Slowest answer so far, the requests sent and answered, and those that got no answer in time. */
  readonly timing: { slowestMs: number; requests: number; answered: number; timeouts: string[] }
}

/** Validates the target (URL, pin) up front: unusable input throws `CallbackInputInvalid` before any request. */
export function createProber(target: ConformanceTarget): Prober {
  const mode: AuthMode = target.mode ?? 'jwt'
  const timeoutMs = target.timeoutMs ?? 30_000
  const urls = { tx: handlerUrl(target.url, mode, 'tx'), config: handlerUrl(target.url, mode, 'config') }
  const pin = target.pinnedSpkiSha256 === undefined ? undefined : normalizeSpkiPin(target.pinnedSpkiSha256)
  const handlerPublicKey = target.mode === 'certificate' ? undefined : target.handlerPublicKey
  const keys: JwtKeys | undefined =
    target.mode === 'certificate'
      ? undefined
      : { cosignerKey: target.cosignerKey, cosignerPublicKey: createPublicKey(target.cosignerKey) }
  const timing = { slowestMs: 0, requests: 0, answered: 0, timeouts: [] as string[] }
  const defaultContentType = mode === 'jwt' ? 'text/plain' : 'application/json'

  const raw = async (
    route: CallbackRoute,
    body: string,
    contentType = defaultContentType,
  ): Promise<Probe> => {
    const url = urls[route]
    timing.requests += 1
    try {
      const reply = await postCallback({
        url,
        body,
        contentType,
        timeoutMs,
        pinnedSpkiSha256: pin,
        ca: target.trustedCa,
      })
      timing.slowestMs = Math.max(timing.slowestMs, reply.durationMs)
      timing.answered += 1
      return {
        mode,
        status: reply.status,
        transportError: undefined,
        pinMismatch: false,
        read: await readReply(reply, mode, handlerPublicKey),
        claimedAction: claimedAction(reply.body),
      }
    } catch (error) {
      if (!(error instanceof CallbackTransportFailure)) throw error
      if (error.timedOut) timing.timeouts.push(url.pathname)
      return {
        mode,
        status: undefined,
        transportError: error.message,
        pinMismatch: error.pinMismatch,
        read: undefined,
        claimedAction: undefined,
      }
    }
  }
  const requestIds: string[] = []
  const remember = (payload: unknown) => {
    const requestId = (payload as { requestId?: unknown } | null)?.requestId
    if (typeof requestId === 'string' && !requestIds.includes(requestId)) requestIds.push(requestId)
  }
  const encode = async (payload: unknown): Promise<string> =>
    keys === undefined ? JSON.stringify(payload) : signCallbackRequest(payload, keys.cosignerKey)
  return {
    target,
    mode,
    pin,
    encode,
    raw,
    send: async (route, payload) => {
      remember(payload)
      return raw(route, await encode(payload))
    },
    requestIds,
    jwtKeys: () => {
      if (keys === undefined) throw new Error('a JWT-mode check ran in certificate mode')
      return keys
    },
    timing,
  }
}

/** The valid answer of a probe (verified, in JWT mode), when it had one. */
export function answerOf(probe: Probe): CallbackResponse | undefined {
  return probe.read?.ok === true ? probe.read.response : undefined
}

/** One short phrase for a report line: `signed REJECT (over limit)`, `HTTP 401`, `no answer: …`. */
export function describeProbe(probe: Probe): string {
  if (probe.status === undefined) return `no answer: ${probe.transportError ?? 'unknown'}`
  const read = probe.read
  if (read?.ok === true) {
    const reason = read.response.rejectionReason
    const form = probe.mode === 'jwt' ? 'signed' : 'JSON'
    return `${form} ${read.response.action}${reason === undefined ? '' : ` (${reason})`}`
  }
  if (read?.stage === 'status') return `HTTP ${probe.status}`
  return `an unusable answer (${read?.reason ?? 'unreadable'})`
}
