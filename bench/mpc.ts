/**
 * Issue 12: what threshold signing costs each party — key generation (DKG), reshare to a new co-signer's set,
 * and one signature (pre-signature rounds + online round) — for ECDSA (DKLs23 wasm) and Ed25519 (FROST).
 * CPU time is `process.cpuUsage()` around the party's own protocol steps, run in this thread one party at a
 * time (key generation off its worker thread, so the time is attributable); bytes are the envelope bodies
 * the party sent. One run, figures only: on a shared machine, expect ±20 % and more under load.
 */
import {
  createDklsEcdsaEngine,
  createFrostEddsaEngine,
  MemoryPresignatureStore,
  type PresignatureStore,
  type RoundParty,
  type ThresholdEngine,
} from '../src/mpc/index.js'
import { presignAll, runProtocol, type Relay } from '../test/mpc/harness.js'

type Usage = Map<string, { cpuMicros: number; bytes: number }>

type Engine<S> = ThresholdEngine<S, { readonly id: string }, unknown>

const usageOf = (usage: Usage, party: string) => {
  let entry = usage.get(party)
  if (entry === undefined) usage.set(party, (entry = { cpuMicros: 0, bytes: 0 }))
  return entry
}

/** The party, with the CPU time of each of its steps added to `usage`. */
function metered<R>(party: RoundParty<R>, usage: Usage): RoundParty<R> {
  const measure = async <T>(step: () => Promise<T>): Promise<T> => {
    const before = process.cpuUsage()
    const result = await step()
    const spent = process.cpuUsage(before)
    usageOf(usage, party.self).cpuMicros += spent.user + spent.system
    return result
  }
  return {
    self: party.self,
    senders: (round) => party.senders(round),
    start: () => measure(() => party.start()),
    receive: (round, inbound) => measure(() => party.receive(round, inbound)),
  }
}

const countingRelay =
  (usage: Usage): Relay =>
  (batch) => {
    for (const envelope of batch) usageOf(usage, envelope.from).bytes += envelope.body.length
    return batch
  }

const HOLDERS = ['cloud1', 'cloud2', 'alice']

async function keygen<S extends { readonly self: string }>(
  engine: Engine<S>,
  usage: Usage,
  from?: S[],
): Promise<S[]> {
  const holders = from === undefined ? HOLDERS : ['cloud1', 'cloud2', 'bob']
  const dealers = from?.map((s) => s.self)
  const everyone = [...new Set([...(dealers ?? []), ...holders])]
  const results = await runProtocol(
    (session) =>
      everyone.map((self) => {
        const share = from?.find((s) => s.self === self)
        const reshare =
          dealers === undefined ? {} : { reshare: { dealers, ...(share === undefined ? {} : { share }) } }
        return metered(engine.keygen({ self, session, holders, ...reshare }), usage)
      }),
    countingRelay(usage),
  )
  return holders.map((h) => results.get(h) as S)
}

async function signOnce<S extends { readonly self: string }>(
  engine: Engine<S>,
  shares: S[],
  message: Uint8Array,
  usage: Usage,
): Promise<void> {
  const stores = new Map<string, PresignatureStore>(
    shares.map((s) => [s.self, new MemoryPresignatureStore()]),
  )
  const presigner = {
    presign: async (s: S, path: readonly number[], session: Uint8Array) =>
      metered(await engine.presign(s, path, session), usage),
  }
  const id = await presignAll(presigner, shares, stores, [0], countingRelay(usage))
  await runProtocol(
    () =>
      Promise.all(
        shares.map(async (s) =>
          metered(await engine.sign(s, stores.get(s.self) as PresignatureStore, id, message), usage),
        ),
      ),
    countingRelay(usage),
  )
}

function line(algorithm: string, operation: string, usage: Usage): string {
  const parties = [...usage].map(
    ([party, u]) =>
      `${party} ${(u.cpuMicros / 1000).toFixed(1)} ms CPU, ${(u.bytes / 1024).toFixed(1)} KiB sent`,
  )
  return `mpc ${algorithm} ${operation}: ${parties.join(' | ')}`
}

async function benchAlgorithm<S extends { readonly self: string }>(
  algorithm: string,
  engine: Engine<S>,
  message: Uint8Array,
  print: (line: string) => void,
) {
  const dkgUsage: Usage = new Map()
  const shares = await keygen(engine, dkgUsage)
  print(line(algorithm, 'DKG 3-of-3', dkgUsage))
  const reshareUsage: Usage = new Map()
  await keygen(engine, reshareUsage, shares)
  print(line(algorithm, 'reshare {cloud1,cloud2,alice} → {cloud1,cloud2,bob}', reshareUsage))
  await signOnce(engine, shares, message, new Map()) // warm-up: the first signature pays for JIT compilation
  const signUsage: Usage = new Map()
  await signOnce(engine, shares, message, signUsage)
  print(line(algorithm, 'one signature (pre-signature + online round)', signUsage))
}

export async function benchMpc(print: (line: string) => void): Promise<void> {
  print(
    'mpc: per party, CPU time of its own protocol steps (one thread, one party at a time) and envelope bytes sent',
  )
  await benchAlgorithm(
    'ecdsa-secp256k1 (DKLs23 wasm)',
    createDklsEcdsaEngine({ keygenInWorker: false }),
    new Uint8Array(32).fill(7),
    print,
  )
  await benchAlgorithm(
    'ed25519 (FROST)',
    createFrostEddsaEngine(),
    new TextEncoder().encode('a Solana transaction message'),
    print,
  )
}
