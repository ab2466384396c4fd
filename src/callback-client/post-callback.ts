import { request as httpRequest, type IncomingMessage } from 'node:http'
import { isIP } from 'node:net'
import { connect as tlsConnect, type TLSSocket } from 'node:tls'
import { CallbackTransportFailure } from './errors.js'
import { spkiFingerprint } from '../keys/index.js'

/** A handler answer is a short JWT or JSON object; anything larger is refused rather than buffered. */
const MAX_RESPONSE_BYTES = 64 * 1024

export interface PostOptions {
  readonly url: URL
  readonly body: string
  readonly contentType: string
  readonly timeoutMs: number
  /** SHA-256 of the server's SPKI PEM (see `normalizeSpkiPin`); replaces CA validation unless `ca` is given too. */
  readonly pinnedSpkiSha256?: string | undefined
  /** Certificates (PEM) trusted instead of the system's CAs, for a handler on a private CA or self-signed. */
  readonly ca?: string | undefined
  /** The caller's cancellation: aborting stops the exchange at once, and the call rejects with its reason. */
  readonly signal?: AbortSignal
}

export interface HttpReply {
  readonly status: number
  readonly body: string
  readonly durationMs: number
}

/**
 * One POST to a callback handler with a single deadline over connect, TLS, request and response. Over
 * HTTPS the TLS handshake (and the pin check) completes before a single byte of the request is written,
 * so a request never reaches a server whose key does not match the pin.
 */
export async function postCallback(options: PostOptions): Promise<HttpReply> {
  const startedAt = performance.now()
  const deadline = AbortSignal.timeout(options.timeoutMs)
  const stop = options.signal === undefined ? deadline : AbortSignal.any([deadline, options.signal])
  try {
    const socket =
      options.url.protocol === 'https:'
        ? await connectTls(options.url, { pin: options.pinnedSpkiSha256, ca: options.ca }, stop)
        : undefined
    const { status, body } = await send(options, socket, stop)
    return { status, body, durationMs: performance.now() - startedAt }
  } catch (error) {
    if (options.signal?.aborted === true) throw options.signal.reason
    if (deadline.aborted) {
      throw new CallbackTransportFailure(`no answer from the handler within ${options.timeoutMs} ms`, {
        cause: error,
        timedOut: true,
      })
    }
    if (error instanceof CallbackTransportFailure) throw error
    throw new CallbackTransportFailure(
      `cannot reach the handler at ${options.url.origin}: ${describeNetworkError(error)}`,
      { cause: error },
    )
  }
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1')
}

function connectTls(
  url: URL,
  trust: { readonly pin: string | undefined; readonly ca: string | undefined },
  deadline: AbortSignal,
): Promise<TLSSocket> {
  const { pin, ca } = trust
  return new Promise((resolve, reject) => {
    const host = hostOf(url)
    const socket = tlsConnect({
      host,
      port: Number(url.port || 443),
      // A pinned key alone replaces CA validation (self-signed handler certificates are the norm there);
      // with `ca` as well, the certificate must chain to it and match the pin.
      rejectUnauthorized: pin === undefined || ca !== undefined,
      ...(ca === undefined ? {} : { ca }),
      ALPNProtocols: ['http/1.1'],
      ...(isIP(host) === 0 ? { servername: host } : {}),
    })
    const abort = () => socket.destroy(new Error('deadline reached'))
    deadline.addEventListener('abort', abort, { once: true })
    socket.once('error', (error) => {
      deadline.removeEventListener('abort', abort)
      reject(error)
    })
    socket.once('secureConnect', () => {
      deadline.removeEventListener('abort', abort)
      if (pin !== undefined) {
        const presented = socket.getPeerX509Certificate()
        const actual = presented === undefined ? 'none' : spkiFingerprint(presented.publicKey)
        if (actual !== pin) {
          socket.destroy()
          reject(
            new CallbackTransportFailure(
              `the handler's TLS public key (SPKI SHA-256 ${actual}) does not match the pinned ${pin}`,
              { pinMismatch: true },
            ),
          )
          return
        }
      }
      resolve(socket)
    })
  })
}

function send(
  options: PostOptions,
  socket: TLSSocket | undefined,
  deadline: AbortSignal,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        method: 'POST',
        host: hostOf(options.url),
        port: Number(options.url.port || (options.url.protocol === 'https:' ? 443 : 80)),
        path: `${options.url.pathname}${options.url.search}`,
        headers: {
          'content-type': options.contentType,
          'content-length': Buffer.byteLength(options.body),
        },
        signal: deadline,
        // `agent: false` would replace createConnection with a plain TCP connect: pass one or the other.
        ...(socket === undefined ? { agent: false } : { createConnection: () => socket }),
      },
      (response) => void readBody(response, request.destroy.bind(request)).then(resolve, reject),
    )
    request.once('error', reject)
    request.end(options.body)
  })
}

function readBody(
  response: IncomingMessage,
  abort: (error: Error) => void,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    response.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_RESPONSE_BYTES) {
        const error = new CallbackTransportFailure(`the handler's answer exceeds ${MAX_RESPONSE_BYTES} bytes`)
        abort(error)
        reject(error)
        return
      }
      chunks.push(chunk)
    })
    response.once('error', reject)
    response.once('end', () =>
      resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
    )
  })
}

function describeNetworkError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string') return code
  return error instanceof Error ? error.message : 'unknown error'
}
