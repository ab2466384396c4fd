import { secp256k1 } from '@noble/curves/secp256k1.js'
import { cheated } from './dkls-keygen.js'
import { assertSameShape } from './dkls-shape.js'
import { withDkls } from './dkls-wasm.js'
import type { EcdsaKeyShare } from './ecdsa-key-share.js'
import { MpcError } from './errors.js'
import { finish, next, sendTo, SingleUse, type RoundParty, type RoundStep } from './round-party.js'
import { partyIndex } from './topology.js'

/**
 * DKLs23 signing split as the issue asks: phases 1–2 (two rounds) run before the message is known and end in
 * a pre-signature; phases 3–4 are the one online round. The library signs any hash with a given phase-2 state,
 * and two hashes signed from one state give away the private key: a pre-signature is therefore stored, taken
 * from its store (marked used) before the online round, and its state dropped once phase 3 ran.
 */
export interface EcdsaPresignature {
  readonly id: string
  readonly self: string
  readonly publicKey: string
  readonly path: readonly number[]
  readonly signId: number[]
  readonly unique: unknown
  readonly kept: unknown
  readonly received: unknown[]
}

export interface EcdsaSignature {
  readonly r: Uint8Array
  readonly s: Uint8Array
  /** 0 or 1: viem's `yParity`. */
  readonly recovery: number
  /** r ‖ s, low-s. */
  readonly compact: Uint8Array
}

const PLACEHOLDER_HASH = new Array<number>(32).fill(0)

function signData(share: EcdsaKeyShare, signId: number[], hash: number[]): object {
  const self = partyIndex(share.holders, share.self)
  return { sign_id: signId, counterparties: [1, 2, 3].filter((i) => i !== self), message_hash: hash }
}

type Transmit = { parties: { receiver: number } }

export class DklsPresignParty implements RoundParty<EcdsaPresignature> {
  private readonly share: EcdsaKeyShare
  private readonly id: string
  private readonly path: readonly number[]
  readonly self: string
  private readonly others: string[]
  private readonly data: object
  private readonly signId: number[]
  private state: { unique?: unknown; kept?: unknown; template?: unknown } = {}

  constructor(share: EcdsaKeyShare, id: string, session: Uint8Array, path: readonly number[]) {
    this.share = share
    this.id = id
    this.path = path
    this.self = share.self
    this.others = share.holders.filter((h) => h !== share.self)
    this.signId = Array.from(session)
    this.data = signData(share, this.signId, PLACEHOLDER_HASH)
  }

  senders(): readonly string[] {
    return this.others
  }

  async start(): Promise<RoundStep<EcdsaPresignature>> {
    const [unique, kept, transmit] = (await withDkls((w) => w.sign_phase1(this.share.party, this.data))) as [
      unknown,
      unknown,
      Transmit[],
    ]
    this.state = { unique, kept }
    return next(this.addressed(transmit))
  }

  async receive(round: number, inbound: ReadonlyMap<string, unknown>): Promise<RoundStep<EcdsaPresignature>> {
    const received = this.validated(inbound)
    const { unique, kept } = this.state
    this.state = {}
    if (round === 1) {
      const outcome = (await withDkls((w) =>
        w.sign_phase2(this.share.party, this.data, unique, kept, received),
      )) as Outcome<[unknown, unknown, Transmit[]]>
      const [unique2, kept2, transmit] = unwrap(outcome, this.share)
      this.state = { unique: unique2, kept: kept2 }
      return next(this.addressed(transmit))
    }
    return finish({
      id: this.id,
      self: this.self,
      publicKey: this.share.party.pk,
      path: this.path,
      signId: this.signId,
      unique,
      kept,
      received,
    })
  }

  private addressed(transmit: Transmit[]): ReadonlyMap<string, unknown> {
    const messages = sendTo(this.others, (to) =>
      transmit.find((m) => m.parties.receiver === partyIndex(this.share.holders, to)),
    )
    this.state.template = messages.get(this.others[0] as string)
    return messages
  }

  private validated(inbound: ReadonlyMap<string, unknown>): unknown[] {
    const to = partyIndex(this.share.holders, this.self)
    return this.others.map((from) => {
      const message = inbound.get(from)
      assertSameShape(this.state.template, message, { from: partyIndex(this.share.holders, from), to }, from)
      return message
    })
  }
}

/** The online round. Takes a pre-signature that its store has already marked used; never runs twice. */
export class DklsSignParty implements RoundParty<EcdsaSignature> {
  private readonly share: EcdsaKeyShare
  private readonly hash: Uint8Array
  readonly self: string
  private readonly presignature: SingleUse<EcdsaPresignature>
  private template: unknown
  private r = ''
  private readonly data: object

  constructor(share: EcdsaKeyShare, presignature: EcdsaPresignature, hash: Uint8Array) {
    this.share = share
    this.hash = hash
    if (hash.length !== 32) throw new MpcError('CS_MPC_BAD_INPUT', 'ECDSA signs a 32-byte message hash')
    if (presignature.self !== share.self || presignature.publicKey !== share.party.pk)
      throw new MpcError('CS_MPC_BAD_INPUT', 'this pre-signature was made with another key share')
    this.self = share.self
    this.presignature = new SingleUse(presignature)
    this.data = signData(share, presignature.signId, Array.from(hash))
  }

  senders(): readonly string[] {
    return this.share.holders
  }

  async start(): Promise<RoundStep<EcdsaSignature>> {
    const presignature = this.presignature.take()
    const { unique, kept, received } = presignature
    const outcome = (await withDkls((w) =>
      w.sign_phase3(this.share.party, this.data, unique, kept, received),
    )) as Outcome<[string, unknown]>
    const [r, broadcast] = unwrap(outcome, this.share)
    this.r = r
    this.template = { r, broadcast }
    return next(sendTo(this.share.holders, () => this.template))
  }

  async receive(_round: number, inbound: ReadonlyMap<string, unknown>): Promise<RoundStep<EcdsaSignature>> {
    const to = partyIndex(this.share.holders, this.self)
    const broadcasts = this.share.holders.map((from) => {
      const message = inbound.get(from) as { r: string; broadcast: unknown }
      assertSameShape(this.template, message, { from: partyIndex(this.share.holders, from), to }, from)
      if (message.r.toUpperCase() !== this.r.toUpperCase())
        throw new MpcError('CS_MPC_PEER_CHEATED', `${from} announced another nonce point`, { party: from })
      return message.broadcast
    })
    const outcome = (await withDkls((w) =>
      w.sign_phase4(this.share.party, this.data, this.r, broadcasts, true),
    )) as Outcome<[string, number]>
    const [s, recovery] = unwrap(outcome, this.share)
    return finish(this.checked(s, recovery))
  }

  private checked(s: string, recovery: number): EcdsaSignature {
    const compact = Uint8Array.from(Buffer.from(this.r.padStart(64, '0') + s.padStart(64, '0'), 'hex'))
    const ok = secp256k1.verify(compact, this.hash, Buffer.from(this.share.party.pk, 'hex'), {
      prehash: false,
    })
    if (!ok || (recovery !== 0 && recovery !== 1))
      throw new MpcError(
        'CS_MPC_KEY_MISMATCH',
        'the protocol produced a signature that does not verify under the set’s public key',
      )
    return { r: compact.slice(0, 32), s: compact.slice(32), recovery, compact }
  }
}

type Outcome<T> = { Ok?: T; Err?: { description?: string } }

function unwrap<T>(outcome: Outcome<T>, share: EcdsaKeyShare): T {
  if (outcome.Ok === undefined) throw cheated(outcome.Err?.description, share.holders)
  return outcome.Ok
}
