import { secp256k1 } from '@noble/curves/secp256k1.js'
import { assertSameShape } from './dkls-shape.js'
import { withDkls } from './dkls-wasm.js'
import { ecdsaChainCode, toHex64, type DklsParty, type EcdsaKeyShare } from './ecdsa-key-share.js'
import { MpcError } from './errors.js'
import type { KeygenOptions } from './keygen-options.js'
import { evaluatePolynomial, lagrangeAtZero } from './shamir.js'
import { finish, next, sendTo, type RoundParty, type RoundStep } from './round-party.js'
import { assertThreeOfThree, partyIndex, THRESHOLD, type Holders } from './topology.js'

const Fn = secp256k1.Point.Fn

/** What a reshare dealer sends each receiver in round 1, in place of the library's phase-1 fragment. */
interface DealtFragment {
  readonly fragment: string
  readonly pk: string
  readonly chainCode: Uint8Array
}

export type DklsKeygenOptions = KeygenOptions<EcdsaKeyShare>

/**
 * Distributed key generation (every holder deals a random polynomial in round 1), or resharing: the old
 * holders deal polynomials whose constant term is their Lagrange-weighted share, and those fragments enter the
 * library's phases 2–4 unchanged. The new set then has the same public key; the chain code is copied so child
 * addresses are identical from every set. A party that only deals finishes after round 1 with no share.
 */
export class DklsKeygenParty implements RoundParty<EcdsaKeyShare | undefined> {
  private readonly options: DklsKeygenOptions
  readonly self: string
  private readonly holders: Holders
  private readonly dealers: Holders
  private readonly sessionData: object
  private state: { p2?: unknown[]; p3?: unknown[]; template2?: unknown; template3?: unknown } = {}
  private dealt: DealtFragment | undefined

  constructor(options: DklsKeygenOptions) {
    this.options = options
    this.self = options.self
    this.holders = assertThreeOfThree(options.holders)
    this.dealers = options.reshare === undefined ? this.holders : assertThreeOfThree(options.reshare.dealers)
    if (!this.isReceiver && !this.isDealer)
      throw new MpcError('CS_MPC_TOPOLOGY', `${this.self} neither deals nor receives in this session`)
    if (options.reshare !== undefined && this.isDealer && options.reshare.share?.self !== this.self)
      throw new MpcError(
        'CS_MPC_BAD_INPUT',
        `${this.self} deals in a reshare but was not given its own share`,
      )
    this.sessionData = {
      parameters: { threshold: THRESHOLD, share_count: THRESHOLD },
      party_index: this.isReceiver ? partyIndex(this.holders, this.self) : 0,
      session_id: Array.from(options.session),
    }
  }

  private get isReceiver(): boolean {
    return this.holders.includes(this.self)
  }

  private get isDealer(): boolean {
    return this.dealers.includes(this.self)
  }

  senders(round: number): readonly string[] {
    if (!this.isReceiver) return []
    return round === 1 ? this.dealers : this.holders
  }

  async start(): Promise<RoundStep<EcdsaKeyShare | undefined>> {
    const messages = this.isDealer ? await this.deal() : new Map<string, unknown>()
    return this.isReceiver ? next(messages) : finish(undefined, messages)
  }

  async receive(
    round: number,
    inbound: ReadonlyMap<string, unknown>,
  ): Promise<RoundStep<EcdsaKeyShare | undefined>> {
    if (round === 1) return next(await this.phase2(inbound))
    if (round === 2) return next(await this.phase3(inbound))
    return finish(await this.phase4(inbound))
  }

  private async deal(): Promise<ReadonlyMap<string, unknown>> {
    const reshare = this.options.reshare
    if (reshare?.share === undefined) {
      const fragments = (await withDkls((w) => w.phase1_wasm_binding(this.sessionData))) as string[]
      return sendTo(this.holders, (to) => ({ fragment: fragments[partyIndex(this.holders, to) - 1] }))
    }
    const { party } = reshare.share
    const weighted = Fn.mul(
      lagrangeAtZero(Fn, partyIndex(this.dealers, this.self), THRESHOLD),
      BigInt(`0x${party.poly_point}`),
    )
    const coefficients = [weighted, ...Array.from({ length: THRESHOLD - 1 }, randomScalar)]
    const chainCode = ecdsaChainCode(reshare.share)
    return sendTo(this.holders, (to) => ({
      fragment: toHex64(evaluatePolynomial(Fn, coefficients, BigInt(partyIndex(this.holders, to)))),
      pk: party.pk,
      chainCode,
    }))
  }

  private async phase2(inbound: ReadonlyMap<string, unknown>): Promise<ReadonlyMap<string, unknown>> {
    const fragments = this.dealers.map((dealer) => this.checkFragment(dealer, inbound.get(dealer)))
    const p2 = (await withDkls((w) => w.phase2_wasm_binding(this.sessionData, fragments))) as unknown[]
    this.state.p2 = p2
    const zero = p2[3] as { parties: { receiver: number } }[]
    const message = (to: string) => ({
      proof: p2[1],
      zero: zero.filter((m) => m.parties.receiver === partyIndex(this.holders, to)),
      bip: p2[5],
    })
    this.state.template2 = message(this.someoneElse())
    return sendTo(this.holders, message)
  }

  private async phase3(inbound: ReadonlyMap<string, unknown>): Promise<ReadonlyMap<string, unknown>> {
    this.validateRound(inbound, this.state.template2)
    const p2 = this.required(this.state.p2)
    const p3 = (await withDkls((w) => w.phase3_wasm_binding(this.sessionData, p2[2], p2[4]))) as unknown[]
    this.state.p3 = p3
    const forParty = (list: unknown, to: string) =>
      (list as { parties: { receiver: number } }[]).filter(
        (m) => m.parties.receiver === partyIndex(this.holders, to),
      )
    const message = (to: string) => ({ zero: forParty(p3[1], to), mul: forParty(p3[3], to), bip: p3[4] })
    this.state.template3 = message(this.someoneElse())
    this.round2 = inbound
    return sendTo(this.holders, message)
  }

  private round2: ReadonlyMap<string, unknown> = new Map()

  private async phase4(inbound: ReadonlyMap<string, unknown>): Promise<EcdsaKeyShare> {
    this.validateRound(inbound, this.state.template3)
    const p2 = this.required(this.state.p2)
    const p3 = this.required(this.state.p3)
    const r2 = this.holders.map(
      (h) => this.round2.get(h) as { proof: unknown; zero: unknown[]; bip: unknown },
    )
    const r3 = this.holders.map((h) => inbound.get(h) as { zero: unknown[]; mul: unknown[]; bip: unknown })
    const indices = this.holders.map((_, i) => i + 1)
    const outcome = (await withDkls((w) =>
      w.phase4_wasm_binding(
        this.sessionData,
        p2[0],
        r2.map((m) => m.proof),
        p3[0],
        r2.flatMap((m) => m.zero),
        r3.flatMap((m) => m.zero),
        p3[2],
        r3.flatMap((m) => m.mul),
        new Map(indices.map((i) => [i, r2[i - 1]?.bip])),
        new Map(indices.map((i) => [i, r3[i - 1]?.bip])),
      ),
    )) as { Ok?: DklsParty; Err?: { description?: string } }
    this.state = {}
    if (outcome.Ok === undefined) throw cheated(outcome.Err?.description, this.holders)
    return {
      algorithm: 'ecdsa-secp256k1',
      holders: this.holders,
      self: this.self,
      party: this.adoptDealtKey(outcome.Ok),
    }
  }

  /** After a reshare the new set must carry the dealers' public key, and it takes their chain code. */
  private adoptDealtKey(party: DklsParty): DklsParty {
    if (this.dealt === undefined) return party
    if (party.pk !== this.dealt.pk)
      throw new MpcError(
        'CS_MPC_KEY_MISMATCH',
        'the reshared set does not carry the dealers’ public key: a dealer dealt a wrong share',
      )
    party.derivation_data.chain_code = Array.from(this.dealt.chainCode)
    return party
  }

  private checkFragment(dealer: string, value: unknown): string {
    const reject = (why: string) =>
      new MpcError('CS_MPC_BAD_MESSAGE', `fragment from ${dealer} rejected: ${why}`, { party: dealer })
    if (value === null || typeof value !== 'object') throw reject('not an object')
    const { fragment, pk, chainCode } = value as Partial<DealtFragment>
    if (
      typeof fragment !== 'string' ||
      !/^[0-9A-F]{64}$/i.test(fragment) ||
      BigInt(`0x${fragment}`) >= Fn.ORDER
    )
      throw reject('not a scalar')
    if (this.options.reshare === undefined) {
      if (Object.keys(value).length !== 1) throw reject('unexpected fields')
      return fragment
    }
    if (typeof pk !== 'string' || !(chainCode instanceof Uint8Array) || chainCode.length !== 32)
      throw reject('no public key and chain code')
    const expected = this.options.reshare.expectedPublicKey ?? this.dealt?.pk ?? pk
    if (pk.toUpperCase() !== expected.toUpperCase())
      throw reject('its public key differs from the other dealers’')
    if (this.dealt !== undefined && !Buffer.from(chainCode).equals(Buffer.from(this.dealt.chainCode)))
      throw reject('its chain code differs from the other dealers’')
    this.dealt ??= { fragment, pk: pk.toUpperCase(), chainCode }
    return fragment
  }

  private validateRound(inbound: ReadonlyMap<string, unknown>, template: unknown): void {
    const to = partyIndex(this.holders, this.self)
    for (const from of this.holders)
      if (from !== this.self)
        assertSameShape(template, inbound.get(from), { from: partyIndex(this.holders, from), to }, from)
  }

  private someoneElse(): string {
    return this.holders.find((h) => h !== this.self) as string
  }

  private required<T>(value: T | undefined): T {
    if (value === undefined)
      throw new MpcError('CS_MPC_SESSION_FINISHED', 'key generation state is gone: rounds out of order')
    return value
  }
}

const randomScalar = (): bigint => Fn.fromBytes(secp256k1.utils.randomSecretKey())

/** Turns the library's abort into an error naming the party where its message does ("… Party 2 …"). */
export function cheated(description: string | undefined, holders: Holders): MpcError {
  const index = /Party (\d+)/.exec(description ?? '')?.[1]
  const party = index === undefined ? undefined : holders[Number(index) - 1]
  return new MpcError(
    'CS_MPC_PEER_CHEATED',
    `protocol aborted${party === undefined ? '' : ` because of ${party}`}: ${description ?? 'no reason given'}`,
    party === undefined ? undefined : { party },
  )
}
