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
} from '../../storage/index.js'
import { CLOUD_PARTIES, type LinkHub } from '../link/index.js'
import { resultText } from './result-field.js'
import { AVAILABILITY_WINDOW_MS } from './signer-directory.js'

/**
 * Gives each paired customer co-signer its 3-of-3 key sets {cloud1, cloud2, customer}, one per algorithm.
 * The first co-signer's key generation creates the workspace keys. A key generation job has a deterministic
 * id per (party, algorithm, try), so two hub replicas never run two for the same party: the second
 * `startJob` fails on the id.
 *
 * Not yet: a second co-signer's set by resharing from an existing one (docs/mpc.md); until then a second
 * co-signer is paired but holds no set, and the hub says so in its log.
 */
export interface KeyManagerOptions {
  readonly db: StorageDatabase
  readonly link: LinkHub
  readonly parties: HubLinkStore
  readonly clock: Clock
  readonly log: Logger
}

export const keygenJobId = (party: string, algorithm: SigningAlgorithm, attempt: number): string =>
  `keygen:${party}:${algorithm}:${attempt}`

export class KeyManager {
  private readonly options: KeyManagerOptions
  private readonly running = new Set<string>()

  constructor(options: KeyManagerOptions) {
    this.options = options
  }

  /** Starts the key generations that are due; each finishes in the background. */
  async reconcile(signal: AbortSignal): Promise<void> {
    const { db, parties, clock } = this.options
    const sets = await db.read(readKeySets)
    const keys = await db.read(readWorkspaceKeys)
    const online = (await parties.parties()).filter(
      (party) =>
        party.kind === 'customer' &&
        party.revokedAt === null &&
        (party.lastSeen ?? 0) >= clock.now() - AVAILABILITY_WINDOW_MS,
    )
    for (const party of online)
      for (const algorithm of SIGNING_ALGORITHMS) {
        if (sets.some((set) => set.party === party.name && set.algorithm === algorithm)) continue
        if (keys.some((key) => key.algorithm === algorithm)) {
          this.options.log.warn(
            { party: party.name, algorithm },
            'this co-signer needs a key set by resharing, which this hub does not do yet',
          )
          continue
        }
        const key = `${party.name}:${algorithm}`
        if (this.running.has(key)) continue
        this.running.add(key)
        void this.generate(party.name, algorithm, signal)
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

  private async generate(party: string, algorithm: SigningAlgorithm, signal: AbortSignal): Promise<void> {
    const { link, log } = this.options
    for (let attempt = 1; !signal.aborted; attempt++) {
      const id = keygenJobId(party, algorithm, attempt)
      const previous = await link.jobResult(id)
      if (previous?.state === 'pending') return // another replica runs it
      // Another replica generated it (and may have stopped before recording it): record it, never make another.
      if (previous?.state === 'done') return this.record(party, algorithm, previous)
      if (previous !== undefined) continue // an earlier try that failed
      try {
        await link.startJob({
          id,
          kind: 'keygen',
          algorithm,
          holders: [...CLOUD_PARTIES, party],
          session: randomBytes(32).toString('hex'),
        })
      } catch {
        return // another replica took this id first
      }
      const job = await link.waitForJob(id, signal)
      if (job.state !== 'done') {
        log.warn({ party, algorithm, reason: resultText(job.result, 'reason') }, 'key generation failed')
        return
      }
      return this.record(party, algorithm, job)
    }
  }

  /** Records a finished key generation; recording the same key again (another replica's) changes nothing. */
  private async record(party: string, algorithm: SigningAlgorithm, job: LinkJob): Promise<void> {
    const { db, clock, log } = this.options
    const publicKey = resultText(job.result, 'publicKey')
    const chainCode = resultText(job.result, 'chainCode')
    try {
      await db.write(async (session) => {
        await putWorkspaceKey(session, { algorithm, publicKey, chainCode }, clock.now())
        await putKeySet(session, { party, algorithm, publicKey }, clock.now())
      })
      log.info({ party, algorithm, publicKey }, 'key set generated')
    } catch (error) {
      log.error({ party, algorithm, cause: describeError(error) }, 'could not record the generated key')
    }
  }
}
