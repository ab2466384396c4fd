import type { RunningHub } from '../../hub/index.js'
import { SIGNING_ALGORITHMS } from '../../protocol/index.js'
import { readKeySets } from '../../storage/index.js'
import { DevKeysLate } from '../errors.js'

/** The algorithms of which the API user's co-signer holds a 3-of-3 key set, as the hub records them. */
export async function keySetsOf(hub: RunningHub, apiUserId: string): Promise<string[]> {
  const held = new Set(
    (await hub.hub.db.read(readKeySets)).filter((set) => set.party === apiUserId).map((set) => set.algorithm),
  )
  return SIGNING_ALGORITHMS.filter((algorithm) => held.has(algorithm))
}

/**
 * Waits until the API user's co-signer holds a key set of every algorithm: at the first start, the
 * workspace's key generation by the co-signer and the two cloud co-signers (DKLs23, FROST).
 */
export async function waitForKeySets(
  hub: RunningHub,
  apiUserId: string,
  options: {
    readonly timeoutMs: number
    readonly progress: (seconds: number) => void
    readonly signal: AbortSignal
  },
): Promise<void> {
  const start = Date.now()
  let reported = start
  for (;;) {
    options.signal.throwIfAborted()
    if ((await keySetsOf(hub, apiUserId)).length === SIGNING_ALGORITHMS.length) return
    const now = Date.now()
    if (now - start > options.timeoutMs)
      throw new DevKeysLate(
        `the co-signer of API user ${apiUserId} holds no key set after ${Math.round((now - start) / 1000)} s`,
      )
    if (now - reported >= 15_000) {
      reported = now
      options.progress(Math.round((now - start) / 1000))
    }
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}
