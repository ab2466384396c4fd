import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ed25519 } from '@noble/curves/ed25519.js'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { hmac } from '@noble/hashes/hmac.js'
import { sha512 } from '@noble/hashes/sha2.js'
import { HDKey } from '@scure/bip32'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { EcdsaSignatureWire, KeygenBody, ResultRequest } from '../../src/protocol/index.js'
import { FakeHub, signLinkMessage } from './fake-hub.js'
import { startParty, stopParties, type TestParty } from './parties.js'

const HOLDERS = ['cloud1', 'cloud2', 'alice'] as const satisfies KeygenBody['holders']
const PATH = [44, 60, 0, 0, 7]

/** The Ed25519 child key as docs/mpc.md defines it, computed here independently with noble. */
function eddsaChild(publicKey: Uint8Array, chainCode: Uint8Array, path: number[]): Uint8Array {
  let [key, code] = [publicKey, chainCode]
  for (const index of path) {
    const indexBytes = Buffer.alloc(4)
    indexBytes.writeUInt32BE(index)
    const mac = hmac(sha512, code, Buffer.concat([key, indexBytes]))
    const t = ed25519.Point.Fn.create(ed25519.Point.Fn.fromBytes(mac.slice(0, 32), true))
    key = ed25519.Point.fromBytes(key).add(ed25519.Point.BASE.multiply(t)).toBytes()
    code = mac.slice(32)
  }
  return key
}

const hex = (text: string) => Uint8Array.from(Buffer.from(text, 'hex'))

describe('three party runners over a relaying hub', () => {
  const hub = new FakeHub()
  const dir = mkdtempSync(join(tmpdir(), 'countersign-link-'))
  let parties: TestParty[] = []
  const keys = new Map<string, ResultRequest>()
  const start = (options: Parameters<typeof startParty>[3] = {}, names: readonly string[] = HOLDERS) =>
    (parties = names.map((name) => startParty(hub, name, dir, options)))

  async function keygen(algorithm: KeygenBody['algorithm']): Promise<void> {
    const body = hub.keygenBody(algorithm, HOLDERS)
    await hub.startJob('keygen', body)
    const results = await hub.resultsOf(body.job, 3, 110_000)
    const first = results.get('cloud1')
    for (const result of results.values()) {
      expect(result).toMatchObject({
        outcome: 'done',
        publicKey: first?.publicKey,
        chainCode: first?.chainCode,
      })
    }
    keys.set(algorithm, first as ResultRequest)
  }

  beforeAll(async () => {
    start()
    await keygen('MPC_ECDSA_SECP256K1')
    await keygen('MPC_EDDSA_ED25519')
    await stopParties(parties)
  }, 120_000)
  afterEach(() => stopParties(parties))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('keeps each share in its own file, mode 0600, under the party directory', async () => {
    const share = await parties[0]?.keyShares.get('MPC_ECDSA_SECP256K1', 'alice')
    expect(share?.self).toBe('cloud1')
    expect(await parties[0]?.keyShares.get('MPC_ECDSA_SECP256K1', 'bob')).toBeUndefined()
    const file = join(
      dir,
      'cloud1',
      'shares',
      `${Buffer.from('cloud1').toString('base64url')}.${Buffer.from('alice').toString('base64url')}.MPC_ECDSA_SECP256K1.share`,
    )
    expect(statSync(file).mode & 0o777).toBe(0o600)
  })

  it('signs an ECDSA hash with the key derived on the path, recoverable to that key', async () => {
    // The customer's gate is slow, as its callback handler is: the clouds' first messages arrive early.
    start({ gate: () => new Promise((resolve) => setTimeout(() => resolve({ approve: true }), 300)) })
    const hash = randomBytes(32)
    const body = hub.signBody({
      txId: 'tx-1',
      attempt: 1,
      algorithm: 'MPC_ECDSA_SECP256K1',
      path: PATH,
      content: hash.toString('hex'),
      holders: HOLDERS,
    })
    await hub.startJob('sign', body)
    const results = await hub.resultsOf(body.job, 3)
    const { publicKey, chainCode } = keys.get('MPC_ECDSA_SECP256K1') as ResultRequest
    const child = new HDKey({ publicKey: hex(publicKey!), chainCode: hex(chainCode!) }).derive(
      `m/${PATH.join('/')}`,
    )
    for (const result of results.values()) {
      expect(result.outcome).toBe('done')
      const { r, s, v } = result.signature as EcdsaSignatureWire
      const compact = hex(r + s)
      expect(secp256k1.verify(compact, hash, child.publicKey!, { prehash: false })).toBe(true)
      const recovered = secp256k1.Signature.fromBytes(compact).addRecoveryBit(v).recoverPublicKey(hash)
      expect(recovered.toHex(true)).toBe(Buffer.from(child.publicKey!).toString('hex'))
    }
  })

  it('signs an Ed25519 message that verifies under the derived key', async () => {
    start()
    const message = Buffer.from('a Solana transfer message')
    const body = hub.signBody({
      txId: 'tx-2',
      attempt: 1,
      algorithm: 'MPC_EDDSA_ED25519',
      path: PATH,
      content: message.toString('hex'),
      holders: HOLDERS,
    })
    await hub.startJob('sign', body)
    const results = await hub.resultsOf(body.job, 3)
    const { publicKey, chainCode } = keys.get('MPC_EDDSA_ED25519') as ResultRequest
    const child = eddsaChild(hex(publicKey!), hex(chainCode!), PATH)
    for (const result of results.values()) {
      expect(result.outcome).toBe('done')
      expect(ed25519.verify(hex(result.signature as string), message, child)).toBe(true)
      expect(ed25519.verify(hex(result.signature as string), message, hex(publicKey!))).toBe(false)
    }
  })

  it('drops a message signed by another key, of another typ, or addressed to another party', async () => {
    start()
    const impostor = generateKeyPairSync('ed25519').privateKey
    const forged = hub.signBody({
      txId: 'tx-3',
      attempt: 1,
      algorithm: 'MPC_EDDSA_ED25519',
      path: [1],
      content: 'aa',
      holders: HOLDERS,
    })
    for (const to of HOLDERS) await hub.post(hub.message(to, 'sign', forged), impostor)
    const wrongTyp = hub.signBody({
      txId: 'tx-4',
      attempt: 1,
      algorithm: 'MPC_EDDSA_ED25519',
      path: [1],
      content: 'bb',
      holders: HOLDERS,
    })
    for (const to of HOLDERS)
      hub.deliverRaw(to, await signLinkMessage(hub.serviceKey, hub.message(to, 'sign', wrongTyp), 'JWT'))
    const misrouted = hub.signBody({
      txId: 'tx-5',
      attempt: 1,
      algorithm: 'MPC_EDDSA_ED25519',
      path: [1],
      content: 'cc',
      holders: HOLDERS,
    })
    for (const to of HOLDERS)
      hub.deliverRaw(to, await signLinkMessage(hub.serviceKey, hub.message('bob', 'sign', misrouted)))
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    await Promise.all(parties.map((party) => party.runner.settled()))
    for (const body of [forged, wrongTyp, misrouted]) expect(hub.results.get(body.job)).toBeUndefined()
  })

  it('runs a job delivered twice (same message, and a copy under a new id) once', async () => {
    start()
    const body = hub.signBody({
      txId: 'tx-6',
      attempt: 1,
      algorithm: 'MPC_EDDSA_ED25519',
      path: [0, 1],
      content: 'dd'.repeat(40),
      holders: HOLDERS,
    })
    for (const to of HOLDERS) {
      const compact = await hub.post(hub.message(to, 'sign', body))
      hub.deliverRaw(to, compact)
      await hub.post(hub.message(to, 'sign', body))
    }
    await hub.resultsOf(body.job, 3)
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    await Promise.all(parties.map((party) => party.runner.settled()))
    const results = hub.results.get(body.job) ?? []
    expect(results.map((r) => r.party).sort()).toEqual(['alice', 'cloud1', 'cloud2'])
    expect(results.every((r) => r.result.outcome === 'done')).toBe(true)
  })

  it('posts a declined job with its reason; the others idle out naming the party that is missing', async () => {
    start({ idleMs: 800 }, ['cloud1', 'cloud2'])
    parties.push(
      startParty(hub, 'alice', dir, {
        gate: () => Promise.resolve({ approve: false, reason: 'policy: rule 7 blocks' }),
      }),
    )
    const body = hub.signBody({
      txId: 'tx-7',
      attempt: 1,
      algorithm: 'MPC_EDDSA_ED25519',
      path: [2],
      content: 'ee',
      holders: HOLDERS,
    })
    await hub.startJob('sign', body)
    const results = await hub.resultsOf(body.job, 3)
    expect(results.get('alice')).toEqual({
      job: body.job,
      outcome: 'declined',
      reason: 'policy: rule 7 blocks',
    })
    for (const cloud of ['cloud1', 'cloud2']) {
      expect(results.get(cloud)?.outcome).toBe('failed')
      expect(results.get(cloud)?.reason).toMatch(/idled out: round 1 incomplete: no message from alice$/)
    }
  })

  it('abandons a cancelled job: no result, not even when its session would have idled out', async () => {
    start({ idleMs: 600 }, ['cloud1'])
    const body = hub.signBody({
      txId: 'tx-8',
      attempt: 1,
      algorithm: 'MPC_EDDSA_ED25519',
      path: [3],
      content: 'ff',
      holders: HOLDERS,
    })
    await hub.post(hub.message('cloud1', 'sign', body))
    await new Promise((resolve) => setTimeout(resolve, 200))
    await hub.post(hub.message('cloud1', 'cancel', { job: body.job, reason: 'transaction cancelled' }))
    await new Promise((resolve) => setTimeout(resolve, 1_200))
    await parties[0]?.runner.settled()
    expect(hub.results.get(body.job)).toBeUndefined()
  })
})
