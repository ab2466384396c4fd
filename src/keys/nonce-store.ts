import { systemClock, type Clock } from '../core/index.js'

/**
 * Remembers the nonces of accepted requests until their tokens can no longer be accepted, so a captured
 * request cannot be replayed. The hub backs this with its database so replicas share it.
 */
export interface NonceStore {
  /**
   * Records `nonce` for `apiKey` until `retainUntilMs`. Returns false, recording nothing, when it is already
   * recorded: the request is a replay.
   */
  claim(apiKey: string, nonce: string, retainUntilMs: number): boolean | Promise<boolean>
}

/** How often expired nonces are swept; a claim between sweeps still ignores an expired entry. */
const SWEEP_INTERVAL_MS = 10_000

/** A single-process nonce store that forgets each nonce once its token has expired. */
export class InMemoryNonceStore implements NonceStore {
  readonly #clock: Clock
  readonly #retainUntil = new Map<string, number>()
  #nextSweepMs = 0

  constructor(clock: Clock = systemClock) {
    this.#clock = clock
  }

  /** Nonces currently remembered (expired ones may linger until the next sweep). */
  get size(): number {
    return this.#retainUntil.size
  }

  claim(apiKey: string, nonce: string, retainUntilMs: number): boolean {
    const nowMs = this.#clock.now()
    this.#sweep(nowMs)
    // JSON keeps the pair unambiguous whatever characters the API key or nonce hold.
    const key = JSON.stringify([apiKey, nonce])
    const existing = this.#retainUntil.get(key)
    if (existing !== undefined && existing > nowMs) return false
    this.#retainUntil.set(key, retainUntilMs)
    return true
  }

  #sweep(nowMs: number): void {
    if (nowMs < this.#nextSweepMs) return
    this.#nextSweepMs = nowMs + SWEEP_INTERVAL_MS
    for (const [key, retainUntilMs] of this.#retainUntil) {
      if (retainUntilMs <= nowMs) this.#retainUntil.delete(key)
    }
  }
}
