import { randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import type { Clock } from '../../core/index.js'
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from '../../protocol/index.js'
import { describeError } from '../../service/index.js'
import {
  putKeySet,
  putWorkspaceKey,
  readKeySets,
  readWorkspaceKeys,
  type HubLinkStore,
  type LinkJob,
  type StorageDatabase,
  type WorkspaceKey,
} from '../../storage/index.js'
import { CLOUD_PARTIES, type LinkHub, type ReshareSpec } from '../link/index.js'
import type { SignerDirectory } from '../pipeline/ports.js'
import { resultText } from './result-field.js'
import { AVAILABILITY_WINDOW_MS, isAvailable, signerDirectory } from './signer-directory.js'

/**
 * Gives each paired customer co-signer its 3-of-3 key sets {cloud1, cloud2, customer}, one per algorithm
 * (docs/mpc.md). The first co-signer's key generation creates the workspace key of an algorithm; every later
 * co-signer gets its set by resharing that key from an existing set (the dealers: the clouds and a customer
 * co-signer that is available, the most recently seen first), with the same public key and chain code. A job
 * has a deterministic id per (party, algorithm, try) — `keygen:…` or `reshare:…` — so two hub replicas never
 * run two for the same party: the second `startJob` fails on the id.
 */
export interface KeyManagerOptions {
  readonly db: StorageDatabase
  readonly link: LinkHub
  readonly parties: HubLinkStore
  readonly clock: Clock
  readonly log: Logger
}

/** How a party gets a key set: a new key (the workspace has none yet), or the workspace's key reshared. */
export type KeyJobKind = 'keygen' | 'reshare'

export const keyJobId = (
  kind: KeyJobKind,
  party: string,
  algorithm: SigningAlgorithm,
  attempt: number,
): string => `${kind}:${party}:${algorithm}:${attempt}`

export class KeyManager {
  private readonly options: KeyManagerOptions
  private readonly signers: SignerDirectory
  private readonly running = new Set<string>()
  /** The (party, algorithm) pairs told in the log that no dealer is available, until one is. */
  private readonly waitingForDealer = new Set<string>()

  constructor(options: KeyManagerOptions) {
    this.options = options
    this.signers = signerDirectory(options.db, options.parties, options.clock, AVAILABILITY_WINDOW_MS)
  }

  /** Starts the key generations and reshares that are due; each finishes in the background. */
  async reconcile(signal: AbortSignal): Promise<void> {
    const { db, parties, clock } = this.options
    const sets = await db.read(readKeySets)
    const keys = await db.read(readWorkspaceKeys)
    const now = clock.now()
    const online = (await parties.parties()).filter(
      (party) => party.kind === 'customer' && isAvailable(party, now),
    )
    for (const party of online)
      for (const algorithm of SIGNING_ALGORITHMS) {
        if (sets.some((set) => set.party === party.name && set.algorithm === algorithm)) continue
        const key = `${party.name}:${algorithm}`
        if (this.running.has(key)) continue
        this.running.add(key)
        const workspaceKey = keys.find((found) => found.algorithm === algorithm)
        void this.obtain(party.name, algorithm, workspaceKey, signal)
          .catch((error: unknown) => {
            // A hub stopping abandons the wait; the job itself is taken up again at the next start.
            if (!signal.aborted)
              this.options.log.error(
                { party: party.name, algorithm, cause: describeError(error) },
                'key generation failed',
              )
          })
          .finally(() => this.running.delete(key))
      }
  }

  /** Runs (or takes up) the party's next key generation, or reshare of `workspaceKey`, and records it. */
  private async obtain(
    party: string,
    algorithm: SigningAlgorithm,
    workspaceKey: WorkspaceKey | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    const { link, clock, log } = this.options
    const kind: KeyJobKind = workspaceKey === undefined ? 'keygen' : 'reshare'
    for (let attempt = 1; !signal.aborted; attempt++) {
      const id = keyJobId(kind, party, algorithm, attempt)
      const previous = await link.jobResult(id)
      if (previous?.state === 'pending') return // another replica runs it
      // Another replica finished it (and may have stopped before recording it): record it, never make another.
      if (previous?.state === 'done') return this.record(party, algorithm, previous)
      if (previous !== undefined) continue // an earlier try that failed
      const reshare =
        workspaceKey === undefined ? undefined : await this.dealing(party, algorithm, workspaceKey)
      if (kind === 'reshare' && reshare === undefined) return
      const started = clock.now()
      try {
        await link.startJob({
          id,
          kind: 'keygen',
          algorithm,
          holders: [...CLOUD_PARTIES, party],
          session: randomBytes(32).toString('hex'),
          ...(reshare === undefined ? {} : { reshare }),
        })
      } catch {
        return // another replica took this id first
      }
      const job = await link.waitForJob(id, signal)
      if (job.state !== 'done') {
        const reason = resultText(job.result, 'reason')
        log.warn(
          { party, algorithm, job: id, reason },
          `${kind === 'keygen' ? 'key generation' : 'reshare'} failed`,
        )
        return
      }
      return this.record(party, algorithm, job, clock.now() - started)
    }
  }

  /**
   * The reshare of the workspace key onto `party` from the set of the most recently seen available co-signer;
   * undefined when none is available (said once in the log, tried again at each reconcile) or when `party`
   * holds a set already (recorded since the reconcile read them).
   */
  private async dealing(
    party: string,
    algorithm: SigningAlgorithm,
    workspaceKey: WorkspaceKey,
  ): Promise<ReshareSpec | undefined> {
    const available = await this.signers.availableSigners(algorithm)
    if (available.includes(party)) return undefined
    const waiting = `${party}:${algorithm}`
    const dealer = available[0]
    if (dealer === undefined) {
      if (!this.waitingForDealer.has(waiting))
        this.options.log.warn(
          { party, algorithm },
          'this co-signer needs a key set by resharing, and no co-signer holding one is available to deal it',
        )
      this.waitingForDealer.add(waiting)
      return undefined
    }
    this.waitingForDealer.delete(waiting)
    return {
      dealers: [...CLOUD_PARTIES, dealer],
      expectedPublicKey: workspaceKey.publicKey,
      expectedChainCode: workspaceKey.chainCode,
    }
  }

  /**
   * Records a finished key generation or reshare; recording the same key again (another replica's) changes
   * nothing, and a reshare that carries another key than the workspace's is refused by `putWorkspaceKey`.
   */
  private async record(party: string, algorithm: SigningAlgorithm, job: LinkJob, ms?: number): Promise<void> {
    const { db, clock, log } = this.options
    const publicKey = resultText(job.result, 'publicKey')
    const chainCode = resultText(job.result, 'chainCode')
    try {
      await db.write(async (session) => {
        await putWorkspaceKey(session, { algorithm, publicKey, chainCode }, clock.now())
        await putKeySet(session, { party, algorithm, publicKey }, clock.now())
      })
      const dealers = job.reshare?.dealers
      log.info(
        { party, algorithm, publicKey, job: job.id, ...(dealers === undefined ? {} : { dealers }), ms },
        dealers === undefined ? 'key set generated' : 'key set reshared',
      )
    } catch (error) {
      log.error({ party, algorithm, cause: describeError(error) }, 'could not record the key set')
    }
  }
}
