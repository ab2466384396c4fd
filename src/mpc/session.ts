import { decode, encode } from './codec.js'
import type { Envelope, SessionChannel } from './envelope.js'
import { MpcError } from './errors.js'
import type { RoundParty, RoundStep } from './round-party.js'

/**
 * Drives one party through one protocol session over envelopes: seals what it sends, opens and buffers what
 * arrives (in any order), and takes a step only once every expected counterparty's message of the round is
 * in. An envelope that fails authentication is dropped (the relay's noise, the session goes on); anything
 * wrong after authentication — undecodable, invalid, a failed consistency check — retires the session.
 */
export class MpcSession<R> {
  private readonly party: RoundParty<R>
  private readonly channel: SessionChannel
  private collecting = 0
  private readonly inbox = new Map<number, Map<string, unknown>>()
  private state: 'new' | 'running' | 'finished' | 'failed' = 'new'
  private outcome: R | undefined
  private queue: Promise<unknown> = Promise.resolve()

  constructor(party: RoundParty<R>, channel: SessionChannel) {
    this.party = party
    this.channel = channel
  }

  get finished(): boolean {
    return this.state === 'finished'
  }

  /** The protocol's result, once `finished`. */
  get result(): R {
    if (this.state !== 'finished')
      throw new MpcError('CS_MPC_SESSION_FINISHED', 'the session has no result: it has not finished')
    return this.outcome as R
  }

  start(): Promise<Envelope[]> {
    return this.serialised(async () => {
      if (this.state !== 'new') throw new MpcError('CS_MPC_SESSION_FINISHED', 'a session starts once')
      this.state = 'running'
      return this.guarded(async () => [...this.emit(await this.party.start()), ...(await this.advance())])
    })
  }

  /** Envelopes to send in reply (often none). Throws CS_MPC_BAD_MESSAGE for a dropped envelope. */
  deliver(envelope: Envelope): Promise<Envelope[]> {
    return this.serialised(async () => {
      if (this.state === 'finished' || this.state === 'failed')
        throw new MpcError('CS_MPC_SESSION_FINISHED', 'the session has ended')
      const plaintext = this.channel.open(envelope)
      return this.guarded(async () => {
        let payload: unknown
        try {
          payload = decode(plaintext)
        } catch (cause) {
          throw new MpcError('CS_MPC_BAD_MESSAGE', `undecodable message from ${envelope.from}`, {
            party: envelope.from,
            cause,
          })
        }
        if (!this.party.senders(envelope.round).includes(envelope.from) || envelope.round < this.collecting)
          throw new MpcError(
            'CS_MPC_BAD_MESSAGE',
            `${envelope.from} sent an unexpected message for round ${envelope.round}`,
            { party: envelope.from },
          )
        this.box(envelope.round).set(envelope.from, payload)
        return this.state === 'running' ? this.advance() : []
      })
    })
  }

  /** Who has not yet sent its message of the round in progress (for a timeout's error). */
  missing(): string[] {
    const box = this.box(this.collecting)
    return this.party.senders(this.collecting).filter((s) => !box.has(s))
  }

  /** Ends a session that timed out, naming who is missing; its state is dropped. */
  abandon(): MpcError {
    const missing = this.missing()
    this.retire()
    return new MpcError(
      'CS_MPC_MESSAGE_MISSING',
      `round ${this.collecting} incomplete: no message from ${missing.join(', ') || 'nobody'}`,
      missing.length === 1 ? { party: missing[0] as string } : undefined,
    )
  }

  private async advance(): Promise<Envelope[]> {
    const out: Envelope[] = []
    while (this.state === 'running' && this.missing().length === 0) {
      const round = this.collecting
      const inbound = this.box(round)
      this.inbox.delete(round)
      out.push(...this.emit(await this.party.receive(round, inbound)))
    }
    return out
  }

  private emit(step: RoundStep<R>): Envelope[] {
    const round = this.collecting + 1
    const out: Envelope[] = []
    for (const [to, payload] of step.messages) {
      if (to === this.party.self) this.box(round).set(to, payload)
      else out.push(this.channel.seal(to, round, encode(payload)))
    }
    if (step.finished) {
      this.outcome = step.result
      this.state = 'finished'
      this.inbox.clear()
    }
    this.collecting = round
    return out
  }

  private box(round: number): Map<string, unknown> {
    let box = this.inbox.get(round)
    if (box === undefined) this.inbox.set(round, (box = new Map<string, unknown>()))
    return box
  }

  private async guarded<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run()
    } catch (error) {
      this.retire()
      throw error
    }
  }

  private retire(): void {
    this.state = 'failed'
    this.inbox.clear()
  }

  private serialised<T>(run: () => Promise<T>): Promise<T> {
    const result = this.queue.then(run)
    this.queue = result.catch(() => undefined)
    return result
  }
}
