import { ed25519, ed25519_FROST } from '@noble/curves/ed25519.js'
import { hmac } from '@noble/hashes/hmac.js'
import { sha512 } from '@noble/hashes/sha2.js'
import { assertDerivationPath } from './ecdsa-key-share.js'
import type { Holders } from './topology.js'

type FrostKey = ReturnType<typeof ed25519_FROST.DKG.round3>

/** One holder's share of the workspace Ed25519 key in one 3-of-3 set. Secret: seal it before storing it. */
export interface EddsaKeyShare {
  readonly algorithm: 'eddsa-ed25519'
  readonly holders: Holders
  readonly self: string
  readonly key: FrostKey
  readonly chainCode: Uint8Array
}

export const frostId = (holders: Holders, name: string): string =>
  ed25519_FROST.Identifier.fromNumber(holders.indexOf(name) + 1)
export const eddsaPublicKey = (share: EddsaKeyShare): Uint8Array =>
  share.key.public.commitments[0] as Uint8Array

const Fn = ed25519_FROST.utils.Fn
const Point = ed25519.Point

/**
 * Child keys by an additive tweak: t = HMAC-SHA512(chain code, A ‖ index)[0..32] read little-endian mod L,
 * the child chain code is the other half. Every signing share, verifying share and the group key move by t
 * (or tG), so the set signs for A + tG. This is NOT SLIP-0010 (ed25519 there is hardened-only, which no
 * threshold scheme can compute): child addresses do not match seed-phrase wallets.
 */
export function deriveEddsa(share: EddsaKeyShare, path: readonly number[]): EddsaKeyShare {
  assertDerivationPath(path)
  let current = share
  for (const index of path) current = tweak(current, index)
  return current
}

/** A public key and chain code: all a party without a share needs to derive child public keys. */
export interface EddsaPublicNode {
  readonly publicKey: Uint8Array
  readonly chainCode: Uint8Array
}

/**
 * The key `deriveEddsa` gives a share set for `path`, from the group public key and chain code alone (the
 * same steps, on the public side only): the hub derives vault addresses with it without holding a share.
 */
export function deriveEddsaPublic(
  publicKey: Uint8Array,
  chainCode: Uint8Array,
  path: readonly number[],
): EddsaPublicNode {
  assertDerivationPath(path)
  let node: EddsaPublicNode = { publicKey, chainCode }
  for (const index of path) {
    const step = tweakOf(node, index)
    node = { publicKey: shift(node.publicKey, step.t), chainCode: step.chainCode }
  }
  return node
}

/** One derivation step seen from the public side: the scalar t and the child chain code. */
function tweakOf(node: EddsaPublicNode, index: number): { t: bigint; chainCode: Uint8Array } {
  const indexBytes = Buffer.alloc(4)
  indexBytes.writeUInt32BE(index)
  const mac = hmac(sha512, node.chainCode, Buffer.concat([node.publicKey, indexBytes]))
  return { t: Fn.create(Fn.fromBytes(mac.slice(0, 32), true)), chainCode: mac.slice(32) }
}

const shift = (point: Uint8Array, t: bigint): Uint8Array =>
  Point.fromBytes(point).add(Point.BASE.multiply(t)).toBytes()

function tweak(share: EddsaKeyShare, index: number): EddsaKeyShare {
  const groupKey = eddsaPublicKey(share)
  const { t, chainCode } = tweakOf({ publicKey: groupKey, chainCode: share.chainCode }, index)
  const { public: pub, secret } = share.key
  const verifyingShares = Object.fromEntries(
    Object.entries(pub.verifyingShares).map(([id, point]) => [id, shift(point, t)]),
  )
  const signingShare = Fn.toBytes(Fn.add(Fn.fromBytes(secret.signingShare), t))
  return {
    ...share,
    chainCode,
    key: {
      public: {
        signers: pub.signers,
        commitments: [shift(groupKey, t), ...pub.commitments.slice(1)],
        verifyingShares,
      },
      secret: { identifier: secret.identifier, signingShare },
    } as FrostKey,
  }
}
