import { join } from 'node:path'
import {
  FileKeyShareStore,
  FilePresignatureStore,
  PartyRunner,
  type Approver,
  type Engines,
  type JobGate,
} from '../../src/link/index.js'
import { createDklsEcdsaEngine, createFrostEddsaEngine } from '../../src/mpc/index.js'
import type { FakeHub } from './fake-hub.js'

export const engines: Engines = { ecdsa: createDklsEcdsaEngine(), eddsa: createFrostEddsaEngine() }

export const approveAll: JobGate = () => Promise.resolve({ approve: true })

export interface TestParty {
  readonly name: string
  readonly runner: PartyRunner
  readonly keyShares: FileKeyShareStore
  readonly presignatures: FilePresignatureStore
  readonly running: Promise<void>
}

/** A party's stores live in `dir/<name>/`, so runners started again later find the same shares. */
export function startParty(
  hub: FakeHub,
  name: string,
  dir: string,
  options: { gate?: JobGate; idleMs?: number; approver?: Approver } = {},
): TestParty {
  const keyShares = new FileKeyShareStore(join(dir, name, 'shares'), name)
  const presignatures = new FilePresignatureStore(join(dir, name, 'presignatures'))
  const runner = new PartyRunner({
    party: hub.keysOf(name),
    hubKey: hub.hubKey,
    transport: hub.transportFor(name),
    keyShares,
    presignatures,
    gate: options.gate ?? approveAll,
    ...(options.approver === undefined ? {} : { approver: options.approver }),
    engines,
    sessionIdleMs: options.idleMs ?? 60_000,
    pollWaitSeconds: 1,
  })
  return { name, runner, keyShares, presignatures, running: runner.run() }
}

export async function stopParties(parties: readonly TestParty[]): Promise<void> {
  await Promise.all(parties.map((party) => party.runner.stop()))
}
