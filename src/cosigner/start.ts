import { join } from 'node:path'
import type { Logger } from 'pino'
import {
  FileKeyShareStore,
  FilePresignatureStore,
  HttpLinkTransport,
  PartyRunner,
  type JobGate,
} from '../link/index.js'
import { createDklsEcdsaEngine, createFrostEddsaEngine } from '../mpc/index.js'
import { readPairing } from './pairing.js'

/**
 * The co-signer daemon: its share of every signature of the API user it is paired with. Without a callback
 * handler configured it approves every request, as the API co-signer does (protocol.md); with one, the
 * callback decides (the co-signer issue).
 */
export interface RunningCosigner {
  readonly party: string
  /** Settles when the runner stops (rejects when the hub refuses its token: pair it again). */
  readonly done: Promise<void>
  close(): Promise<void>
}

const approveWithoutCallback: JobGate = async () => ({ approve: true })

export async function startCosigner(options: {
  readonly dir: string
  readonly log: Logger
}): Promise<RunningCosigner> {
  const pairing = await readPairing(options.dir)
  const runner = new PartyRunner({
    party: pairing.party,
    hubKey: pairing.hubKey,
    transport: new HttpLinkTransport({ hubUrl: pairing.hubUrl, refreshToken: pairing.refreshToken }),
    keyShares: new FileKeyShareStore(join(options.dir, 'shares'), pairing.party.name),
    presignatures: new FilePresignatureStore(join(options.dir, 'presignatures')),
    gate: approveWithoutCallback,
    engines: { ecdsa: createDklsEcdsaEngine(), eddsa: createFrostEddsaEngine() },
    log: options.log,
  })
  const done = runner.run()
  options.log.info({ party: pairing.party.name, hub: pairing.hubUrl }, 'co-signer polling the hub')
  return {
    party: pairing.party.name,
    done,
    close: () => runner.stop(),
  }
}
