import {
  generatePartyKeys,
  MpcError,
  MpcSession,
  newSessionId,
  presignatureId,
  SessionChannel,
  storePresignature,
  type Envelope,
  type PartyKeys,
  type PresignatureStore,
  type RoundParty,
} from '../../src/mpc/index.js'

/** Long-term envelope keys, one per party name, pinned by every other party. */
const keys = new Map<string, PartyKeys>()
export const keysOf = (name: string): PartyKeys => {
  let k = keys.get(name)
  if (k === undefined) keys.set(name, (k = generatePartyKeys(name)))
  return k
}

export type Relay = (batch: Envelope[]) => Envelope[]
export const honestRelay: Relay = (batch) => batch

/**
 * Runs one session of every given party over an in-memory relay (which the test may make hostile). Returns
 * each party's result; throws the first failure, or CS_MPC_MESSAGE_MISSING when the relay starved a round.
 */
export async function runProtocol<R>(
  makeParties: (session: Uint8Array) => Promise<RoundParty<R>[]> | RoundParty<R>[],
  relay: Relay = honestRelay,
): Promise<Map<string, R>> {
  const session = newSessionId()
  const parties = await makeParties(session)
  // Every party named by the protocol is pinned, present or not: a missing party's messages simply go nowhere.
  const names = new Set(parties.flatMap((p) => [p.self, ...p.senders(1), ...p.senders(2)]))
  const pins = new Map([...names].map((name) => [name, keysOf(name).publicKey]))
  const sessions = new Map(
    parties.map((p) => [p.self, new MpcSession(p, new SessionChannel(keysOf(p.self), session, pins))]),
  )
  let queue: Envelope[] = []
  for (const s of sessions.values()) queue.push(...(await s.start()))
  while (queue.length > 0) {
    const batch = relay(queue)
    queue = []
    for (const envelope of batch) {
      const target = sessions.get(envelope.to)
      if (target === undefined || target.finished) continue
      try {
        queue.push(...(await target.deliver(envelope)))
      } catch (error) {
        if (!(
          error instanceof MpcError &&
          error.code === 'CS_MPC_BAD_MESSAGE' &&
          /authentication|replayed/.test(error.message)
        ))
          throw error
      }
    }
  }
  for (const s of sessions.values()) if (!s.finished) throw s.abandon()
  return new Map([...sessions].map(([name, s]) => [name, s.result]))
}

/** A relay that drops, duplicates, reorders and flips bits, driven by a seeded generator so failures replay. */
export function hostileRelay(
  seed: number,
  rates: { drop: number; duplicate: number; tamper: number },
): Relay {
  let state = seed
  const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
  return (batch) => {
    const out: Envelope[] = []
    for (const envelope of batch) {
      if (random() < rates.drop) continue
      if (random() < rates.tamper) {
        const body = Uint8Array.from(envelope.body)
        const at = Math.floor(random() * body.length)
        body[at] = (body[at] as number) ^ 0x01
        out.push({ ...envelope, body })
        continue
      }
      out.push(envelope)
      if (random() < rates.duplicate) out.push(envelope)
    }
    return out.sort(() => random() - 0.5)
  }
}

interface Presigner<S> {
  presign(
    share: S,
    path: readonly number[],
    session: Uint8Array,
  ): Promise<RoundParty<{ readonly id: string }>>
}

/** Runs one pre-signature session of `shares` and stores each party's part in its own store; returns the id. */
export async function presignAll<S extends { readonly self: string }>(
  engine: Presigner<S>,
  shares: readonly S[],
  stores: ReadonlyMap<string, PresignatureStore>,
  path: readonly number[],
  relay: Relay = honestRelay,
): Promise<string> {
  let id = ''
  const results = await runProtocol(async (session) => {
    id = presignatureId(session)
    return Promise.all(shares.map((s) => engine.presign(s, path, session)))
  }, relay)
  for (const [self, presignature] of results)
    await storePresignature(stores.get(self) as PresignatureStore, presignature)
  return id
}
