import { decode, encode } from './codec.js'
import { MpcError } from './errors.js'

/**
 * Where pre-signatures (ECDSA phase-2 state, FROST nonces) wait for their message. `take` is the single-use
 * guard: it marks the entry used — atomically and durably, before it returns — and only then hands the state
 * out, so a crash between `take` and the online round loses a pre-signature but can never use one twice.
 * Implementations seal the state at rest: it is secret.
 */
export interface PresignatureStore {
  /** Stores a new pre-signature; refuses an id it holds or has ever handed out. */
  put(id: string, state: Uint8Array): Promise<void>
  /** The state of `id`, now marked used; undefined when unknown or already taken. */
  take(id: string): Promise<Uint8Array | undefined>
}

/** For one process's lifetime (tests, short-lived signers); a daemon uses a durable implementation. */
export class MemoryPresignatureStore implements PresignatureStore {
  private readonly waiting = new Map<string, Uint8Array>()
  private readonly taken = new Set<string>()

  put(id: string, state: Uint8Array): Promise<void> {
    if (this.waiting.has(id) || this.taken.has(id))
      return Promise.reject(new MpcError('CS_MPC_PRESIGNATURE_USED', `pre-signature ${id} already exists`))
    this.waiting.set(id, state)
    return Promise.resolve()
  }

  take(id: string): Promise<Uint8Array | undefined> {
    const state = this.waiting.get(id)
    this.waiting.delete(id)
    if (state !== undefined) this.taken.add(id)
    return Promise.resolve(state)
  }
}

export async function storePresignature(
  store: PresignatureStore,
  presignature: { readonly id: string },
): Promise<void> {
  await store.put(presignature.id, encode(presignature))
}

/** Takes `id` out of the store (marking it used) and decodes it; refuses an id already used. */
export async function takePresignature<T>(store: PresignatureStore, id: string): Promise<T> {
  const state = await store.take(id)
  if (state === undefined)
    throw new MpcError(
      'CS_MPC_PRESIGNATURE_USED',
      `pre-signature ${id} is unknown or already used; run a new pre-signature session`,
    )
  return decode(state) as T
}
