import type { Logger } from 'pino'
import type { Clock } from '../../core/index.js'
import { describeError } from '../../service/index.js'
import { renewSigningLease, type StorageDatabase } from '../../storage/index.js'
import type { SignerDirectory } from './ports.js'

export interface SigningLeaseOptions {
  readonly db: StorageDatabase
  readonly clock: Clock
  readonly log: Logger
  readonly signers: SignerDirectory
  readonly leaseMs: number
}

/** The attempt a lease is held for. */
export interface LeasedAttempt {
  readonly txId: string
  readonly signer: string
  readonly attempt: number
}

export interface SigningLease {
  /** The signature's MPC sessions start: from now on the co-signer must stay the same process. */
  pinProcess(): void
  /** Stops renewing; why the lease was lost, if it was. */
  release(): string | undefined
}

/**
 * Renews an attempt's lease every third of its length while the signer's co-signer is heard from, and
 * aborts the attempt (`controller`) when it is not, or when the transaction no longer holds the attempt
 * (another replica took it over). Once the signature's MPC sessions start, the co-signer must also stay the
 * same process: one that restarted lost them. Before that it resumes its approval (persisted, RETRY series
 * included), so a restart then costs nothing.
 */
export function holdSigningLease(
  options: SigningLeaseOptions,
  held: LeasedAttempt,
  controller: AbortController,
): SigningLease {
  const { clock, leaseMs } = options
  let lost: string | undefined
  let released = false
  let pinned: Promise<string | null | undefined> | undefined
  let timer = clock.setTimer(leaseMs / 3, tick)

  function tick(): void {
    void whyLost(options, held, pinned)
      .then((reason) => {
        lost = reason
        if (lost !== undefined) controller.abort(new Error(lost))
      })
      .catch((error: unknown) =>
        // A store that is away: the lease may run out meanwhile, and then the next renewal finds it lost.
        options.log.warn(
          { txId: held.txId, attempt: held.attempt, cause: describeError(error) },
          'could not renew the signing lease',
        ),
      )
      .finally(() => {
        if (lost === undefined && !released) timer = clock.setTimer(leaseMs / 3, tick)
      })
  }

  return {
    pinProcess() {
      // A failed read pins nothing that matches: the next renewal hands the attempt on (fail closed).
      pinned = options.signers.reachable(held.signer).then(
        (holder) => holder?.instance,
        () => undefined,
      )
    },
    release() {
      released = true
      timer.cancel()
      return lost
    },
  }
}

/** Renews the lease, or says why the attempt lost it. */
async function whyLost(
  options: SigningLeaseOptions,
  { txId, signer, attempt }: LeasedAttempt,
  pinned: Promise<string | null | undefined> | undefined,
): Promise<string | undefined> {
  const now = await options.signers.reachable(signer)
  if (now === undefined)
    return `the co-signer of ${signer} was not heard from within the ${options.leaseMs / 1000}s lease`
  if (pinned !== undefined && now.instance !== (await pinned))
    return `the co-signer of ${signer} restarted during the signature`
  const until = options.clock.now() + options.leaseMs
  const renewed = await options.db.write((session) => renewSigningLease(session, txId, attempt, until))
  return renewed ? undefined : `attempt ${attempt} no longer holds the transaction`
}
