import { secp256k1 } from '@noble/curves/secp256k1.js'
import { randomBytes } from 'node:crypto'
import { recoverAddress } from 'viem'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  assertThreeOfThree,
  dklsGeneration,
  encode,
  MpcSession,
  newSessionId,
  SessionChannel,
  type EcdsaKeyShare,
  type Envelope,
} from '../../src/mpc/index.js'
import { crashMidSignature } from './crash-harness.js'
import { derivedAddress, dkg, engine, presign, reshare, sign, storesFor } from './ecdsa-fixture.js'
import { hostileRelay, keysOf } from './harness.js'

const PATH = [7, 3]
const hashOf = () => new Uint8Array(randomBytes(32))
const hex = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}` as const

async function signAndCheck(shares: EcdsaKeyShare[], path = PATH) {
  const stores = storesFor(shares)
  const hash = hashOf()
  const id = await presign(shares, stores, path)
  const signature = await sign(shares, stores, id, hash)
  const address = await recoverAddress({
    hash: hex(hash),
    signature: { r: hex(signature.r), s: hex(signature.s), yParity: signature.recovery },
  })
  return { signature, hash, address, stores, id }
}

let setA: EcdsaKeyShare[] // {cloud1, cloud2, alice} by DKG
let setB: EcdsaKeyShare[] // {cloud1, cloud2, bob} by reshare from set A
let refreshed: EcdsaKeyShare[] // {cloud1, cloud2, alice} by refresh (a reshare to the same holders) of set A

beforeAll(async () => {
  setA = await dkg('alice')
  // The three key generations are the file's cost (≈2–3 s of CPU per party each); the reshare and the refresh
  // both start from set A, so they run side by side.
  ;[setB, refreshed] = await Promise.all([reshare(setA, 'bob'), reshare(setA, 'alice')])
}, 240_000) // ≈40 s on a quiet 2-core machine; several times that when it is shared

describe('ECDSA key sets', () => {
  it('gives all three holders of each set the same public key, and set B the key of set A', () => {
    const pks = [...setA, ...setB].map((s) => s.party.pk)
    expect(new Set(pks).size).toBe(1)
    expect(new Set([...setA, ...setB].map((s) => s.party.poly_point)).size).toBe(6)
  })

  it('signs with each set for the same derived address, verified by noble and recovered by viem', async () => {
    for (const set of [setA, setB]) {
      const { signature, hash, address } = await signAndCheck(set)
      const child = await engine.derive(set[0] as EcdsaKeyShare, PATH)
      expect(
        secp256k1.verify(signature.compact, hash, Buffer.from(child.party.pk, 'hex'), { prehash: false }),
      ).toBe(true)
      expect(address).toBe(derivedAddress(set[0] as EcdsaKeyShare, PATH))
    }
  })

  it('refuses shares mixed across sets', async () => {
    // Bob's share of set B presented as Alice's share of set A.
    const impostor = {
      ...(setB[2] as EcdsaKeyShare),
      self: 'alice',
      holders: (setA[2] as EcdsaKeyShare).holders,
    }
    const mixed = [setA[0], setA[1], impostor] as EcdsaKeyShare[]
    await expect(signAndCheck(mixed)).rejects.toMatchObject({
      code: expect.stringMatching(/CS_MPC_(PEER_CHEATED|KEY_MISMATCH)/),
    })
  })

  it('lets neither the two clouds nor a customer with one cloud sign or rebuild the key', async () => {
    const key = (shares: EcdsaKeyShare[], weights: bigint[]) =>
      shares.reduce(
        (acc, s, i) =>
          secp256k1.Point.Fn.add(
            acc,
            secp256k1.Point.Fn.mul(weights[i] as bigint, BigInt(`0x${s.party.poly_point}`)),
          ),
        0n,
      )
    const Fn = secp256k1.Point.Fn
    // Lagrange weights of a 2-of-{1,2} and 2-of-{1,3} reconstruction: what two holders would try.
    const pairs: [EcdsaKeyShare[], bigint[]][] = [
      [[setA[0], setA[1]] as EcdsaKeyShare[], [2n, Fn.neg(1n)]],
      [[setA[0], setA[2]] as EcdsaKeyShare[], [Fn.div(3n, 2n), Fn.neg(Fn.div(1n, 2n))]],
    ]
    for (const [shares, weights] of pairs) {
      const guess = secp256k1.Point.BASE.multiply(key(shares, weights)).toHex(true).toUpperCase()
      expect(guess).not.toBe(setA[0]?.party.pk)
      await expect(signAndCheck(shares)).rejects.toMatchObject({ code: 'CS_MPC_MESSAGE_MISSING' })
    }
  })

  it('refuses a pre-signature the second time', async () => {
    const { stores, id } = await signAndCheck(setA)
    await expect(sign(setA, stores, id, hashOf())).rejects.toMatchObject({ code: 'CS_MPC_PRESIGNATURE_USED' })
  })

  it('refuses a pre-signature taken by a signer killed mid-signature, after its restart; no two signatures share an r', async () => {
    const observed = await crashMidSignature({
      algorithm: 'ecdsa',
      shares: setA,
      sign: (share, store, id, hash) => engine.sign(share, store, id, hash),
      presign: (stores) => presign(setA, stores, PATH),
    })
    expect(observed.refusals).toEqual([
      'CS_MPC_PRESIGNATURE_USED',
      'CS_MPC_PRESIGNATURE_USED',
      'CS_MPC_PRESIGNATURE_USED',
    ])
    const pk = Buffer.from((await engine.derive(setA[0] as EcdsaKeyShare, PATH)).party.pk, 'hex')
    const [first, second] = observed.messages
    expect(secp256k1.verify(observed.fromKilledSession.compact, first, pk, { prehash: false })).toBe(true)
    for (const signature of observed.afterRestart)
      expect(secp256k1.verify(signature.compact, second, pk, { prehash: false })).toBe(true)
    const signatures = [observed.fromKilledSession, ...observed.afterRestart]
    const distinct = new Set(signatures.map((s) => hex(s.compact)))
    expect(new Set(signatures.map((s) => hex(s.r))).size).toBe(distinct.size)
    expect(distinct.size).toBe(2)
  }, 60_000)

  it('refuses t = 1, t = 2 and any set but [cloud1, cloud2, customer]', () => {
    expect(() => assertThreeOfThree(['cloud1', 'cloud2', 'alice'], 1)).toThrow(
      expect.objectContaining({ code: 'CS_MPC_TOPOLOGY' }),
    )
    expect(() => assertThreeOfThree(['cloud1', 'cloud2', 'alice'], 2)).toThrow(
      expect.objectContaining({ code: 'CS_MPC_TOPOLOGY' }),
    )
    expect(() =>
      engine.keygen({ self: 'cloud1', session: newSessionId(), holders: ['cloud1', 'alice', 'bob'] }),
    ).toThrow(expect.objectContaining({ code: 'CS_MPC_TOPOLOGY' }))
    expect(() =>
      engine.keygen({
        self: 'cloud1',
        session: newSessionId(),
        holders: ['cloud1', 'cloud2', 'alice', 'bob'],
      }),
    ).toThrow(expect.objectContaining({ code: 'CS_MPC_TOPOLOGY' }))
  })

  it('stays able to sign after 1,000 garbage messages, forged and authenticated', async () => {
    const generation = dklsGeneration()
    const session = newSessionId()
    const pins = new Map(setA.map((s) => [s.self, keysOf(s.self).publicKey]))
    const victim = new MpcSession(
      await engine.presign(setA[0] as EcdsaKeyShare, PATH, session),
      new SessionChannel(keysOf('cloud1'), session, pins),
    )
    await victim.start()
    const rejected: string[] = []
    const replies: Envelope[] = []
    for (let i = 0; i < 1000; i++) {
      const from = i % 2 === 0 ? 'cloud2' : 'alice'
      const garbage: Envelope =
        i % 4 < 2
          ? { session, from, to: 'cloud1', round: 1 + (i % 3), body: new Uint8Array(randomBytes(i % 200)) }
          : new SessionChannel(keysOf(from), session, pins).seal(
              'cloud1',
              1,
              encode(
                i % 8 < 6 ? { parties: { sender: 9, receiver: 1 }, commitment: [1, 2] } : randomBytes(64),
              ),
            )
      await victim.deliver(garbage).then(
        (r) => replies.push(...r),
        (e: { code: string }) => rejected.push(e.code),
      )
    }
    // One authenticated message may wait in the inbox until its round is complete; nothing is ever answered.
    expect(rejected.length).toBeGreaterThanOrEqual(999)
    expect(replies).toEqual([])
    expect(rejected.filter((c) => c !== 'CS_MPC_BAD_MESSAGE' && c !== 'CS_MPC_SESSION_FINISHED')).toEqual([])
    expect(dklsGeneration()).toBe(generation) // nothing reached the wasm
    const { address } = await signAndCheck(setA)
    expect(address).toBe(derivedAddress(setA[0] as EcdsaKeyShare, PATH))
  })

  it('over a relay that drops, duplicates, reorders and tampers: every signature produced verifies, and only for its own hash', async () => {
    let produced = 0
    for (let seed = 1; seed <= 6; seed++) {
      const relay = hostileRelay(
        seed,
        seed <= 2 ? { drop: 0, duplicate: 0.5, tamper: 0 } : { drop: 0.05, duplicate: 0.3, tamper: 0.1 },
      )
      const stores = storesFor(setA)
      const hash = hashOf()
      const outcome = await presign(setA, stores, PATH, relay)
        .then((id) => sign(setA, stores, id, hash, relay))
        .catch((error: { code?: string }) => error)
      if ('compact' in outcome) {
        produced += 1
        const pk = Buffer.from((await engine.derive(setA[0] as EcdsaKeyShare, PATH)).party.pk, 'hex')
        expect(secp256k1.verify(outcome.compact, hash, pk, { prehash: false })).toBe(true)
        expect(secp256k1.verify(outcome.compact, hashOf(), pk, { prehash: false })).toBe(false)
      } else expect(outcome.code).toMatch(/^CS_MPC_/)
    }
    expect(produced).toBeGreaterThanOrEqual(2) // duplicates and reordering alone never stop a session
  })

  it('refresh changes every share and keeps the public key and the addresses', async () => {
    refreshed.forEach((s, i) => expect(s.party.poly_point).not.toBe(setA[i]?.party.poly_point))
    expect(refreshed.map((s) => s.party.pk)).toEqual(setA.map((s) => s.party.pk))
    const { address } = await signAndCheck(refreshed)
    expect(address).toBe(derivedAddress(setA[0] as EcdsaKeyShare, PATH))
    await expect(
      signAndCheck([refreshed[0], refreshed[1], setA[2]] as EcdsaKeyShare[]),
    ).rejects.toMatchObject({ code: expect.stringMatching(/CS_MPC_(PEER_CHEATED|KEY_MISMATCH)/) })
  })
})
