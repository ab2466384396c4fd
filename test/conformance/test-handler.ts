/**
 * A tiny callback handler for tests, correct by default and broken on request. It is NOT Countersign's
 * handler: it exists so the conformance suite and the client can be run against known behaviour.
 * Correct mode: RS256-only verification with the co-signer key (401 otherwise), payload validation,
 * APPROVE for valid requests, the same answer again for a known requestId with the same payload, REJECT
 * for a known requestId with a different payload. `hold` answers RETRY until `release` is called.
 * Certificate mode (`mode: 'certificate'`, HTTPS with the given certificate): plain JSON both ways on the
 * routes without `/v2`; the same decisions, the same flaws where they mean something.
 */
import { createHash, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  extractCompactToken,
  parseCallbackRequest,
  readRequestId,
  signCallbackRequest,
  signCallbackResponse,
  verifyRs256,
  type Action,
  type AuthMode,
  type CallbackResponse,
  type CallbackRoute,
} from '../../src/protocol/index.js'

export const Flaw = {
  /** Echoes a requestId other than the one received. */
  wrongRequestId: 'wrong-request-id',
  /** Never verifies or remembers anything: decodes any body (JWT or JSON) and approves it. */
  approvesUnverified: 'approves-unverified',
  /** Answers IGNORE to every request, signing ones included. */
  ignoresEverything: 'ignores-everything',
  /** Answers `Action` / `RequestId` instead of `action` / `requestId`. */
  pascalCaseClaims: 'pascal-case-claims',
  /** Signs its answers with a key other than the registered handler key. */
  wrongSigningKey: 'wrong-signing-key',
  /** Never answers the config-change route. */
  stallsConfigChanges: 'stalls-config-changes',
} as const
export type Flaw = (typeof Flaw)[keyof typeof Flaw]

interface CommonOptions {
  readonly flaw?: Flaw
  /** Answer RETRY to every new request until it is released. */
  readonly hold?: boolean
  /** Called on each verified delivery, before answering: a test plays the human approver here. */
  readonly onDelivery?: (requestId: string, count: number, handler: TestHandler) => void
}

export interface TestHandlerOptions extends CommonOptions {
  readonly mode?: 'jwt'
  readonly cosignerPublicKey: KeyObject
  readonly handlerPrivateKey: KeyObject
  /** Signs with this key under `wrong-signing-key`. */
  readonly otherPrivateKey?: KeyObject
  /** Serves JWT mode over HTTPS with these certificate and key files (PEM). */
  readonly tls?: { readonly cert: string; readonly key: string }
}

export interface CertificateTestHandlerOptions extends CommonOptions {
  readonly mode: 'certificate'
  /** Certificate and key files (PEM) the HTTPS server presents. */
  readonly tls: { readonly cert: string; readonly key: string }
}

export interface TestHandler {
  readonly url: string
  /** Decides a held request: its next delivery is answered APPROVE. */
  release(requestId: string): void
  /** How many requests each requestId received. */
  readonly deliveries: Map<string, number>
  /** Every request body received, in order, exactly as sent. */
  readonly bodies: string[]
  close(): Promise<void>
}

const ROUTES: Record<AuthMode, Record<string, CallbackRoute>> = {
  jwt: { '/v2/tx_sign_request': 'tx', '/v2/config_change_sign_request': 'config' },
  certificate: { '/tx_sign_request': 'tx', '/config_change_sign_request': 'config' },
}

export async function startTestHandler(
  options: TestHandlerOptions | CertificateTestHandlerOptions,
): Promise<TestHandler> {
  const decided = new Map<string, { digest: string; response: CallbackResponse }>()
  const released = new Set<string>()
  const deliveries = new Map<string, number>()
  const bodies: string[] = []
  const mode: AuthMode = options.mode ?? 'jwt'
  const listener = (request: IncomingMessage, reply: ServerResponse) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const route = ROUTES[mode][request.url ?? '']
      if (request.method !== 'POST' || route === undefined) {
        reply.writeHead(404).end()
        return
      }
      if (options.flaw === Flaw.stallsConfigChanges && route === 'config') return
      bodies.push(Buffer.concat(chunks).toString('utf8'))
      decide(route, bodies.at(-1)!)
        .then(async (response) => {
          if (response === undefined) reply.writeHead(401).end()
          else
            reply
              .writeHead(200, { 'content-type': mode === 'jwt' ? 'text/plain' : 'application/json' })
              .end(await encode(response))
        })
        .catch(() => reply.writeHead(500).end())
    })
  }
  const server: Server =
    options.tls !== undefined
      ? createTlsServer(
          { cert: readFileSync(options.tls.cert), key: readFileSync(options.tls.key) },
          listener,
        )
      : createServer(listener)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const self: TestHandler = {
    url: `${options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${(server.address() as AddressInfo).port}`,
    release: (requestId) => released.add(requestId),
    deliveries,
    bodies,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }

  async function decide(route: CallbackRoute, body: string): Promise<CallbackResponse | undefined> {
    if (options.flaw === Flaw.approvesUnverified) {
      const text = extractCompactToken(body)
      const claims: unknown = JSON.parse(
        text.startsWith('{') ? text : Buffer.from(text.split('.')[1] ?? '', 'base64url').toString(),
      )
      return { action: 'APPROVE', requestId: String(readRequestId(claims)) }
    }
    const payload = await authenticate(body)
    if (payload === undefined) return undefined
    const requestId = readRequestId(payload) ?? 'unknown'
    const count = (deliveries.get(requestId) ?? 0) + 1
    deliveries.set(requestId, count)
    options.onDelivery?.(requestId, count, self)
    try {
      parseCallbackRequest(route, payload)
    } catch {
      return { action: 'REJECT', requestId, rejectionReason: 'invalid payload' }
    }
    const digest = createHash('sha256').update(JSON.stringify(payload)).digest('hex')
    const known = decided.get(requestId)
    if (known !== undefined) {
      return known.digest === digest
        ? known.response
        : { action: 'REJECT', requestId, rejectionReason: 'altered' }
    }
    if (options.hold === true && !released.has(requestId)) return { action: 'RETRY', requestId }
    const action: Action = options.flaw === Flaw.ignoresEverything ? 'IGNORE' : 'APPROVE'
    const response = { action, requestId }
    decided.set(requestId, { digest, response })
    return response
  }

  /** JWT mode: the co-signer's RS256 signature, else undefined (401). Certificate mode: the JSON itself. */
  async function authenticate(body: string): Promise<unknown> {
    try {
      if (options.mode === 'certificate') return JSON.parse(body) as unknown
      return (await verifyRs256(extractCompactToken(body), [options.cosignerPublicKey])).payload
    } catch {
      return undefined
    }
  }

  async function encode(response: CallbackResponse): Promise<string> {
    if (options.mode === 'certificate') return JSON.stringify(flawed(response))
    switch (options.flaw) {
      case Flaw.wrongRequestId:
        return signCallbackResponse(
          { ...response, requestId: `${response.requestId}-other` },
          options.handlerPrivateKey,
        )
      case Flaw.pascalCaseClaims:
        return signCallbackRequest(
          { Action: response.action, RequestId: response.requestId },
          options.handlerPrivateKey,
        )
      case Flaw.wrongSigningKey:
        return signCallbackResponse(response, options.otherPrivateKey ?? options.handlerPrivateKey)
      default:
        return signCallbackResponse(response, options.handlerPrivateKey)
    }
  }

  /** The flaws of a plain JSON answer (certificate mode has no signature to get wrong). */
  function flawed(response: CallbackResponse): Record<string, unknown> {
    switch (options.flaw) {
      case Flaw.wrongRequestId:
        return { ...response, requestId: `${response.requestId}-other` }
      case Flaw.pascalCaseClaims:
        return { Action: response.action, RequestId: response.requestId }
      default:
        return response
    }
  }

  return self
}
