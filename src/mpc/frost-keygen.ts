import { ed25519, ed25519_FROST as FROST } from '@noble/curves/ed25519.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { randomBytes } from 'node:crypto'
import { MpcError } from './errors.js'
import { eddsaPublicKey, frostId, type EddsaKeyShare } from './frost-key-share.js'
import type { KeygenOptions } from './keygen-options.js'
import { evaluatePolynomial, lagrangeAtZero } from './shamir.js'
import { finish, next, sendTo, type RoundParty, type RoundStep } from './round-party.js'
import { assertThreeOfThree, THRESHOLD, type Holders } from './topology.js'

const signers = { min: THRESHOLD, max: THRESHOLD }
const Fn = FROST.utils.Fn
const Point = ed25519.Point

/** Any exception of the library on a peer's input retires the session and names that peer. */
function blame<T>(party: string, what: string, run: () => T): T {
  try {
    return run()
  } catch (cause) {
    if (cause instanceof MpcError) throw cause
    throw new MpcError('CS_MPC_PEER_CHEATED', `${what} from ${party} rejected: ${(cause as Error).message}`, {
      party,
      cause,
    })
  }
}

/**
 * FROST DKG (RFC 9591 appendix), plus the chain code: each holder commits to 32 random bytes in round 1 and
 * reveals them in round 2; the chain code is SHA-256 of the three, so no holder chooses it alone.
 */
export class FrostDkgParty implements RoundParty<EddsaKeyShare> {
  readonly self: string
  private readonly holders: Holders
  private readonly others: string[]
  private state: ReturnType<typeof FROST.DKG.round1>['secret'] | undefined
  private readonly contribution = new Uint8Array(randomBytes(32))
  private round1 = new Map<
    string,
    { round1: ReturnType<typeof FROST.DKG.round1>['public']; commit: Uint8Array }
  >()

  constructor(options: KeygenOptions<EddsaKeyShare>) {
    this.self = options.self
    this.holders = assertThreeOfThree(options.holders)
    this.others = this.holders.filter((h) => h !== this.self)
  }

  senders(): readonly string[] {
    return this.others
  }

  async start(): Promise<RoundStep<EddsaKeyShare>> {
    const { public: round1, secret } = FROST.DKG.round1(frostId(this.holders, this.self), signers)
    this.state = secret
    return next(sendTo(this.others, () => ({ round1, commit: sha256(this.contribution) })))
  }

  async receive(round: number, inbound: ReadonlyMap<string, unknown>): Promise<RoundStep<EddsaKeyShare>> {
    const secret = this.state
    if (secret === undefined)
      throw new MpcError('CS_MPC_SESSION_FINISHED', 'this key generation already ended')
    if (round === 1) {
      for (const from of this.others) this.round1.set(from, this.checkRound1(from, inbound.get(from)))
      const packages = blame('a peer', 'round 1', () =>
        FROST.DKG.round2(
          secret,
          this.others.map((o) => this.round1.get(o)?.round1 as never),
        ),
      )
      return next(
        sendTo(this.others, (to) => ({
          round2: packages[frostId(this.holders, to)],
          contribution: this.contribution,
        })),
      )
    }
    this.state = undefined
    const contributions = new Map<string, Uint8Array>([[this.self, this.contribution]])
    const round2 = this.others.map((from) => {
      const message = inbound.get(from) as { round2?: unknown; contribution?: unknown } | undefined
      const contribution = message?.contribution
      if (
        !(contribution instanceof Uint8Array) ||
        !Buffer.from(sha256(contribution)).equals(Buffer.from(this.round1.get(from)?.commit ?? []))
      )
        throw new MpcError(
          'CS_MPC_PEER_CHEATED',
          `${from} revealed a chain-code contribution it had not committed to`,
          { party: from },
        )
      contributions.set(from, contribution)
      return message?.round2 as never
    })
    const key = blame('a peer', 'round 2', () =>
      FROST.DKG.round3(
        secret,
        this.others.map((o) => this.round1.get(o)?.round1 as never),
        round2,
      ),
    )
    const chainCode = sha256(Buffer.concat(this.holders.map((h) => contributions.get(h) as Uint8Array)))
    return finish({ algorithm: 'eddsa-ed25519', holders: this.holders, self: this.self, key, chainCode })
  }

  private checkRound1(from: string, value: unknown) {
    const message = value as { round1?: { identifier?: unknown }; commit?: unknown } | undefined
    if (
      message?.round1?.identifier !== frostId(this.holders, from) ||
      !(message.commit instanceof Uint8Array)
    )
      throw new MpcError(
        'CS_MPC_BAD_MESSAGE',
        `round-1 message from ${from} does not carry its identifier and commitment`,
        { party: from },
      )
    return message as { round1: ReturnType<typeof FROST.DKG.round1>['public']; commit: Uint8Array }
  }
}

interface Dealing {
  readonly commitment: Uint8Array[]
  readonly share: Uint8Array
  readonly groupPublic: EddsaKeyShare['key']['public']
  readonly chainCode: Uint8Array
}

/**
 * Resharing (and refresh): each old holder deals a polynomial with constant term λ_d·s_d. A receiver checks
 * each fragment against its dealer's Feldman commitments and the constant term against λ_d·Y_d (so a wrong
 * dealing is attributed), sums them, and checks the result against the unchanged group key.
 */
export class FrostReshareParty implements RoundParty<EddsaKeyShare | undefined> {
  private readonly options: KeygenOptions<EddsaKeyShare>
  readonly self: string
  private readonly holders: Holders
  private readonly dealers: Holders

  constructor(options: KeygenOptions<EddsaKeyShare>) {
    this.options = options
    this.self = options.self
    this.holders = assertThreeOfThree(options.holders)
    this.dealers = assertThreeOfThree(options.reshare?.dealers ?? [])
    if (this.dealers.includes(this.self) && options.reshare?.share?.self !== this.self)
      throw new MpcError(
        'CS_MPC_BAD_INPUT',
        `${this.self} deals in a reshare but was not given its own share`,
      )
  }

  senders(): readonly string[] {
    return this.holders.includes(this.self) ? this.dealers : []
  }

  async start(): Promise<RoundStep<EddsaKeyShare | undefined>> {
    const share = this.options.reshare?.share
    const messages = share === undefined ? new Map<string, unknown>() : this.deal(share)
    return this.holders.includes(this.self) ? next(messages) : finish(undefined, messages)
  }

  private deal(share: EddsaKeyShare): ReadonlyMap<string, unknown> {
    const weighted = Fn.mul(
      lagrangeAtZero(Fn, this.dealers.indexOf(this.self) + 1, THRESHOLD),
      Fn.fromBytes(share.key.secret.signingShare),
    )
    const { coefficients, commitment } = FROST.utils.generateSecretPolynomial(signers, Fn.toBytes(weighted))
    return sendTo(this.holders, (to) => ({
      commitment,
      share: Fn.toBytes(evaluatePolynomial(Fn, coefficients, BigInt(this.holders.indexOf(to) + 1))),
      groupPublic: share.key.public,
      chainCode: share.chainCode,
    }))
  }

  async receive(
    _round: number,
    inbound: ReadonlyMap<string, unknown>,
  ): Promise<RoundStep<EddsaKeyShare | undefined>> {
    const dealings = this.dealers.map((d) => [d, inbound.get(d) as Dealing] as const)
    const first = dealings[0]?.[1] as Dealing
    const groupKey =
      this.options.reshare?.expectedPublicKey ??
      Buffer.from(first.groupPublic.commitments[0] as Uint8Array).toString('hex')
    const me = BigInt(this.holders.indexOf(this.self) + 1)
    let signingShare = 0n
    const commitments: ReturnType<typeof Point.fromBytes>[] = []
    for (const [dealer, dealing] of dealings) {
      blame(dealer, 'dealing', () => this.verifyDealing(dealer, dealing, first, groupKey, me))
      signingShare = Fn.add(signingShare, Fn.fromBytes(dealing.share))
      dealing.commitment.forEach(
        (c, k) =>
          (commitments[k] =
            commitments[k] === undefined ? Point.fromBytes(c) : commitments[k].add(Point.fromBytes(c))),
      )
    }
    const pub = {
      signers,
      commitments: commitments.map((c) => c.toBytes()),
      verifyingShares: Object.fromEntries(
        this.holders.map((h, i) => [
          frostId(this.holders, h),
          evaluatePoints(commitments, BigInt(i + 1)).toBytes(),
        ]),
      ),
    }
    const key = {
      public: pub,
      secret: { identifier: frostId(this.holders, this.self), signingShare: Fn.toBytes(signingShare) },
    } as EddsaKeyShare['key']
    FROST.validateSecret(key.secret, key.public)
    const share: EddsaKeyShare = {
      algorithm: 'eddsa-ed25519',
      holders: this.holders,
      self: this.self,
      key,
      chainCode: first.chainCode,
    }
    if (Buffer.from(eddsaPublicKey(share)).toString('hex') !== groupKey)
      throw new MpcError('CS_MPC_KEY_MISMATCH', 'the reshared set does not carry the dealers’ public key')
    return finish(share)
  }

  private verifyDealing(
    dealer: string,
    dealing: Dealing,
    first: Dealing,
    groupKey: string,
    me: bigint,
  ): void {
    const d = this.dealers.indexOf(dealer) + 1
    if (
      Buffer.from(dealing.groupPublic.commitments[0] as Uint8Array).toString('hex') !== groupKey ||
      !Buffer.from(dealing.chainCode).equals(Buffer.from(first.chainCode))
    )
      throw new MpcError('CS_MPC_PEER_CHEATED', `${dealer} deals for another key or chain code`, {
        party: dealer,
      })
    if (dealing.commitment.length !== THRESHOLD)
      throw new MpcError('CS_MPC_PEER_CHEATED', `${dealer} committed to a polynomial of the wrong degree`, {
        party: dealer,
      })
    const dealerShare = Point.fromBytes(
      dealing.groupPublic.verifyingShares[frostId(this.dealers, dealer)] as Uint8Array,
    )
    const constant = Point.fromBytes(dealing.commitment[0] as Uint8Array)
    const commitmentPoints = dealing.commitment.map((c) => Point.fromBytes(c))
    if (
      !constant.equals(dealerShare.multiply(lagrangeAtZero(Fn, d, THRESHOLD))) ||
      !Point.BASE.multiply(Fn.fromBytes(dealing.share)).equals(evaluatePoints(commitmentPoints, me))
    )
      throw new MpcError(
        'CS_MPC_PEER_CHEATED',
        `${dealer} dealt a fragment that does not match its commitments`,
        { party: dealer },
      )
  }
}

const evaluatePoints = (points: readonly (typeof Point.BASE)[], x: bigint) =>
  points.reduceRight((acc, c) => acc.multiplyUnsafe(x).add(c), Point.ZERO)
