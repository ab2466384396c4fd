import { MpcError, type RoundParty, type RoundStep } from '../mpc/index.js'

/**
 * Two protocols run back to back over one session, as one `RoundParty`: when the first finishes (its last
 * step sending nothing), `followedBy` turns its result into the second, whose rounds continue the numbering. A
 * signing job has one session on the wire; this runs its pre-signature rounds and its online round there.
 * Until the first phase ends, a round beyond it is answered by the first phase's `senders` (every phase of
 * both engines hears from the same holders), so a faster peer's early message is kept, not refused.
 */
export class PhasedParty<A, B> implements RoundParty<B> {
  readonly self: string
  private readonly first: RoundParty<A>
  private readonly followedBy: (result: A) => Promise<RoundParty<B>>
  private second: { readonly party: RoundParty<B>; readonly offset: number } | undefined

  constructor(first: RoundParty<A>, followedBy: (result: A) => Promise<RoundParty<B>>) {
    this.self = first.self
    this.first = first
    this.followedBy = followedBy
  }

  senders(round: number): readonly string[] {
    const second = this.second
    if (second === undefined || round <= second.offset) return this.first.senders(round)
    return second.party.senders(round - second.offset)
  }

  async start(): Promise<RoundStep<B>> {
    return this.continueAfter(0, await this.first.start())
  }

  async receive(round: number, inbound: ReadonlyMap<string, unknown>): Promise<RoundStep<B>> {
    const second = this.second
    if (second !== undefined) return second.party.receive(round - second.offset, inbound)
    return this.continueAfter(round, await this.first.receive(round, inbound))
  }

  private async continueAfter(round: number, step: RoundStep<A>): Promise<RoundStep<B>> {
    if (!step.finished) return step
    if (step.messages.size > 0)
      throw new MpcError('CS_MPC_BAD_INPUT', 'a phase that ends by sending messages cannot be followed')
    const party = await this.followedBy(step.result)
    this.second = { party, offset: round }
    return party.start()
  }
}
