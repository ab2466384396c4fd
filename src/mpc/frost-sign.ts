import { ed25519, ed25519_FROST as FROST } from '@noble/curves/ed25519.js'
import { MpcError } from './errors.js'
import { frostId, type EddsaKeyShare } from './frost-key-share.js'
import { finish, next, sendTo, SingleUse, type RoundParty, type RoundStep } from './round-party.js'

type Commitments = ReturnType<typeof FROST.commit>['commitments']

/**
 * FROST signing: round 1 (nonce commitments) runs before the message is known and ends in a stored
 * pre-signature; the online round exchanges signature shares. noble refuses the same nonce object twice but
 * accepts a copy, so the nonces live only in the pre-signature store and are taken out once.
 */
export interface EddsaPresignature {
  readonly id: string
  readonly self: string
  readonly path: readonly number[]
  readonly nonces: ReturnType<typeof FROST.commit>['nonces']
  readonly commitments: Commitments[]
}

export class FrostPresignParty implements RoundParty<EddsaPresignature> {
  private readonly share: EddsaKeyShare
  private readonly id: string
  private readonly path: readonly number[]
  readonly self: string
  private readonly others: string[]
  private generated: ReturnType<typeof FROST.commit> | undefined

  constructor(share: EddsaKeyShare, id: string, path: readonly number[]) {
    this.share = share
    this.id = id
    this.path = path
    this.self = share.self
    this.others = share.holders.filter((h) => h !== share.self)
  }

  senders(): readonly string[] {
    return this.others
  }

  async start(): Promise<RoundStep<EddsaPresignature>> {
    this.generated = FROST.commit(this.share.key.secret)
    return next(sendTo(this.others, () => this.generated?.commitments))
  }

  async receive(
    _round: number,
    inbound: ReadonlyMap<string, unknown>,
  ): Promise<RoundStep<EddsaPresignature>> {
    const generated = this.generated
    if (generated === undefined)
      throw new MpcError('CS_MPC_SESSION_FINISHED', 'this pre-signature session already ended')
    this.generated = undefined
    const commitments = this.share.holders.map((h) =>
      h === this.self ? generated.commitments : this.checkCommitment(h, inbound.get(h)),
    )
    return finish({ id: this.id, self: this.self, path: this.path, nonces: generated.nonces, commitments })
  }

  private checkCommitment(from: string, value: unknown): Commitments {
    const c = value as Partial<Commitments> | undefined
    const isPoint = (p: unknown) => {
      try {
        return p instanceof Uint8Array && !ed25519.Point.fromBytes(p).is0()
      } catch {
        return false
      }
    }
    if (c?.identifier !== frostId(this.share.holders, from) || !isPoint(c.hiding) || !isPoint(c.binding))
      throw new MpcError('CS_MPC_BAD_MESSAGE', `nonce commitment from ${from} is malformed or not its own`, {
        party: from,
      })
    return c as Commitments
  }
}

/** The online round for Ed25519: one signature share each, aggregated and verified by every holder. */
export class FrostSignParty implements RoundParty<Uint8Array> {
  private readonly share: EddsaKeyShare
  private readonly message: Uint8Array
  readonly self: string
  private readonly presignature: SingleUse<EddsaPresignature>
  private readonly commitments: Commitments[]

  constructor(share: EddsaKeyShare, presignature: EddsaPresignature, message: Uint8Array) {
    this.share = share
    this.message = message
    if (presignature.self !== share.self)
      throw new MpcError('CS_MPC_BAD_INPUT', 'this pre-signature belongs to another holder')
    this.self = share.self
    this.presignature = new SingleUse(presignature)
    this.commitments = presignature.commitments
  }

  senders(): readonly string[] {
    return this.share.holders
  }

  async start(): Promise<RoundStep<Uint8Array>> {
    const presignature = this.presignature.take()
    const { secret, public: pub } = this.share.key
    const signatureShare = FROST.signShare(secret, pub, presignature.nonces, this.commitments, this.message)
    return next(sendTo(this.share.holders, () => signatureShare))
  }

  async receive(_round: number, inbound: ReadonlyMap<string, unknown>): Promise<RoundStep<Uint8Array>> {
    const pub = this.share.key.public
    const shares: Record<string, Uint8Array> = {}
    for (const holder of this.share.holders) {
      const value = inbound.get(holder)
      const id = frostId(this.share.holders, holder)
      if (
        !(value instanceof Uint8Array) ||
        value.length !== 32 ||
        !FROST.verifyShare(pub, this.commitments, this.message, id, value)
      )
        throw new MpcError('CS_MPC_PEER_CHEATED', `${holder} sent an invalid signature share`, {
          party: holder,
        })
      shares[id] = value
    }
    const signature = FROST.aggregate(pub, this.commitments, this.message, shares)
    if (!ed25519.verify(signature, this.message, pub.commitments[0] as Uint8Array))
      throw new MpcError(
        'CS_MPC_KEY_MISMATCH',
        'the aggregated signature does not verify under the set’s public key',
      )
    return finish(signature)
  }
}
