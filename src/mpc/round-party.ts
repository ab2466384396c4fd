import { MpcError } from './errors.js'

/**
 * One party's side of a round-based protocol, free of transport: `start` gives the messages of round 1,
 * `receive(r, …)` takes every expected message of round r and gives those of round r + 1, or the result.
 * Payloads are plain values (the codec carries them); a party never sees a message it did not expect.
 */
export type RoundStep<R> =
  | { readonly finished: false; readonly messages: ReadonlyMap<string, unknown> }
  | { readonly finished: true; readonly messages: ReadonlyMap<string, unknown>; readonly result: R }

export interface RoundParty<R> {
  readonly self: string
  /** Who must send this party a message in `round` before it can take its next step. */
  senders(round: number): readonly string[]
  start(): Promise<RoundStep<R>>
  receive(round: number, inbound: ReadonlyMap<string, unknown>): Promise<RoundStep<R>>
}

export const sendTo = (
  recipients: readonly string[],
  payload: (to: string) => unknown,
): ReadonlyMap<string, unknown> => new Map(recipients.map((to) => [to, payload(to)]))

export const next = <R>(messages: ReadonlyMap<string, unknown>): RoundStep<R> => ({
  finished: false,
  messages,
})

export const finish = <R>(result: R, messages: ReadonlyMap<string, unknown> = new Map()): RoundStep<R> => ({
  finished: true,
  messages,
  result,
})

/** Signing state handed out once: the online round runs at most once per pre-signature. */
export class SingleUse<T> {
  private value: T | undefined

  constructor(value: T) {
    this.value = value
  }

  take(): T {
    const value = this.value
    if (value === undefined)
      throw new MpcError('CS_MPC_SESSION_FINISHED', 'this signing session already ran its online round')
    this.value = undefined
    return value
  }
}
