import { createPublicKey, type KeyObject } from 'node:crypto'
import { signCallbackRequest, type CallbackResponse, type CallbackRoute } from '../protocol/index.js'
import { CallbackTransportFailure } from './errors.js'
import { handlerUrl } from './handler-url.js'
import { postCallback } from './post-callback.js'
import { claimedAction, readReply, type ReadReply } from './read-reply.js'

/** A handler under test, named only by URL and keys, so a handler in any language can be graded. */
export interface ConformanceTarget {
  /** The BASE URL configured in the co-signer. */
  readonly url: string
  readonly cosignerKey: KeyObject
  readonly handlerPublicKey: KeyObject
  readonly signerId?: string
  /** Per-request deadline; the co-signer's is 30 s. */
  readonly timeoutMs?: number
}

/** What one request got back, read the way a co-signer reads it. */
export interface Probe {
  /** Undefined when no HTTP answer came at all. */
  readonly status: number | undefined
  readonly transportError: string | undefined
  readonly read: ReadReply | undefined
  /** The action the answer claims, read without verifying it (any key casing). */
  readonly claimedAction: string | undefined
}

export interface Prober {
  readonly target: ConformanceTarget
  readonly cosignerPublicKey: KeyObject
  /** Posts `body` to the JWT-mode route as is. */
  raw(route: CallbackRoute, body: string, contentType?: string): Promise<Probe>
  /** Signs `payload` with the co-signer key and posts it. */
  signed(route: CallbackRoute, payload: unknown): Promise<Probe>
  /** Slowest answer so far and the requests that got no answer in time. */
  readonly timing: { slowestMs: number; requests: number; timeouts: string[] }
}

export function createProber(target: ConformanceTarget): Prober {
  const timeoutMs = target.timeoutMs ?? 30_000
  const timing = { slowestMs: 0, requests: 0, timeouts: [] as string[] }
  const raw = async (route: CallbackRoute, body: string, contentType = 'text/plain'): Promise<Probe> => {
    const url = handlerUrl(target.url, 'jwt', route)
    timing.requests += 1
    try {
      const reply = await postCallback({ url, body, contentType, timeoutMs })
      timing.slowestMs = Math.max(timing.slowestMs, reply.durationMs)
      return {
        status: reply.status,
        transportError: undefined,
        read: await readReply(reply, 'jwt', target.handlerPublicKey),
        claimedAction: claimedAction(reply.body),
      }
    } catch (error) {
      if (!(error instanceof CallbackTransportFailure)) throw error
      if (error.timedOut) timing.timeouts.push(url.pathname)
      return { status: undefined, transportError: error.message, read: undefined, claimedAction: undefined }
    }
  }
  return {
    target,
    cosignerPublicKey: createPublicKey(target.cosignerKey),
    raw,
    signed: async (route, payload) => raw(route, await signCallbackRequest(payload, target.cosignerKey)),
    timing,
  }
}

/** The verified answer of a probe, when it had one. */
export function answerOf(probe: Probe): CallbackResponse | undefined {
  return probe.read?.ok === true ? probe.read.response : undefined
}

/** One short phrase for a report line: `signed REJECT (over limit)`, `HTTP 401`, `no answer: …`. */
export function describeProbe(probe: Probe): string {
  if (probe.status === undefined) return `no answer: ${probe.transportError ?? 'unknown'}`
  const read = probe.read
  if (read?.ok === true) {
    const reason = read.response.rejectionReason
    return `signed ${read.response.action}${reason === undefined ? '' : ` (${reason})`}`
  }
  if (read?.stage === 'status') return `HTTP ${probe.status}`
  return `an unusable answer (${read?.reason ?? 'unreadable'})`
}
