import type { Clock } from '../../core/index.js'
import type { SigningAlgorithm } from '../../protocol/index.js'
import { readKeySets, type HubLinkStore, type LinkParty, type StorageDatabase } from '../../storage/index.js'
import type { SignerDirectory } from '../pipeline/ports.js'

/**
 * How recently a party must have been heard from to count as there, when no tighter window applies (a
 * reshare's dealers): every poll is a heartbeat (a poll waits at most 25 s), as is every WebSocket pong.
 */
export const AVAILABILITY_WINDOW_MS = 60_000

/**
 * Whether the party's co-signer is there at `now`: enrolled, heard from within `windowMs`, and not gone
 * since (a co-signer that stops says so by closing its WebSocket; one that crashes, or long-polls, is gone
 * once the window has passed).
 */
export function isAvailable(party: LinkParty, now: number, windowMs = AVAILABILITY_WINDOW_MS): boolean {
  const seen = party.lastSeen ?? 0
  return party.revokedAt === null && seen >= now - windowMs && seen > (party.leftAt ?? -1)
}

/**
 * Who can sign now: the API users holding a key set of the algorithm whose co-signer was heard from within
 * `windowMs` (the signing lease: a signer is offered only what it can be expected to hold), most recently
 * seen first.
 */
export function signerDirectory(
  db: StorageDatabase,
  parties: HubLinkStore,
  clock: Clock,
  windowMs: number,
): SignerDirectory {
  return {
    async availableSigners(algorithm: SigningAlgorithm) {
      const holders = new Set(
        (await db.read(readKeySets)).filter((set) => set.algorithm === algorithm).map((set) => set.party),
      )
      const now = clock.now()
      return (await parties.parties())
        .filter((party) => holders.has(party.name) && isAvailable(party, now, windowMs))
        .sort((a, b) => (b.lastSeen ?? 0) - (a.lastSeen ?? 0))
        .map((party) => party.name)
    },
    async reachable(signer: string) {
      const party = await parties.party(signer)
      return party !== undefined && isAvailable(party, clock.now(), windowMs)
        ? { instance: party.instance }
        : undefined
    },
  }
}
