/**
 * What one client may hold of a server: how long it may take to send its headers and its body, how long
 * an idle connection is kept, how many connections are open at once, and how long a stopping server waits
 * for requests already being handled. Without these, clients that trickle their bodies hold descriptors
 * until the process runs out and keep a stopping process alive.
 */
export interface ServerLimits {
  /** Connections open at once; a new one beyond it evicts the oldest connection not being handled. */
  readonly maxConnections: number
  /** Time to receive a whole request, headers and body (408 after it). */
  readonly requestTimeoutMs: number
  /** Time to receive the headers (and to finish a TLS handshake). */
  readonly headersTimeoutMs: number
  /** An idle keep-alive connection is closed after this. */
  readonly keepAliveTimeoutMs: number
  /** A connection on which nothing moves for this long is closed (covers a request stuck in a handler). */
  readonly idleTimeoutMs: number
  /** On stop, requests being handled get this long to finish; then every connection is closed. */
  readonly drainTimeoutMs: number
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  // Well under the usual 1,024 descriptors per process, leaving room for the store and logs.
  maxConnections: 768,
  requestTimeoutMs: 10_000,
  headersTimeoutMs: 5_000,
  // Co-signers reuse connections between retries; keep idle ones a little over a minute.
  keepAliveTimeoutMs: 65_000,
  idleTimeoutMs: 60_000,
  drainTimeoutMs: 30_000,
}
