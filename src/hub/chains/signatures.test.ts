import { ed25519 } from '@noble/curves/ed25519.js'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { recoverAddress } from 'viem'
import { describe, expect, it } from 'vitest'
import {
  addressOf,
  assetRegistry,
  parseSignedContent,
  recoverEvmAddress,
  signedMessage,
  verifySignature,
  type RawSignature,
} from './index.js'

const ETH = assetRegistry().get('ETH_TEST6')!
const PATH = [44, 1, 7, 0, 0]
/** hub-api.md §10 step 4: keccak256("hello hub"). */
const CONTENT = '5b68da701c6cee76f6becf38b9368529d30303bb1396625527a04f6626c8fd60'
const N = secp256k1.Point.Fn.ORDER

/** A plain secp256k1 key stands in for the threshold key: the signatures are the same mathematics. */
const secret = secp256k1.utils.randomSecretKey()
const publicKey = secp256k1.getPublicKey(secret)

function signEcdsa(key: Uint8Array, digestHex: string): Required<RawSignature> {
  const recovered = secp256k1.sign(Buffer.from(digestHex, 'hex'), key, {
    prehash: false,
    format: 'recovered',
  })
  const signature = secp256k1.Signature.fromBytes(recovered, 'recovered')
  return { compact: signature.toBytes('compact'), recovery: signature.recovery as number }
}

const flipBit = (bytes: Uint8Array, at: number): Uint8Array => {
  const copy = Uint8Array.from(bytes)
  copy[at] = (copy[at] as number) ^ 0x01
  return copy
}

/** The same signature with s replaced by n − s and the parity flipped: valid for lenient verifiers only. */
function highS(signature: Required<RawSignature>): Required<RawSignature> {
  const s = BigInt('0x' + bytesToHex(signature.compact.slice(32)))
  const compact = Uint8Array.from([...signature.compact.slice(0, 32), ...secp256k1.Point.Fn.toBytes(N - s)])
  return { compact, recovery: signature.recovery ^ 1 }
}

describe('keccak content', () => {
  it('is the digest hub-api.md shows for "hello hub"', () => {
    expect(bytesToHex(keccak_256(new TextEncoder().encode('hello hub')))).toBe(CONTENT)
  })
})

describe('ECDSA signed messages', () => {
  const signature = signEcdsa(secret, CONTENT)

  it('is the exact SignedMessage of §5.9', () => {
    const message = signedMessage({
      content: CONTENT,
      algorithm: 'MPC_ECDSA_SECP256K1',
      path: PATH,
      signature,
      publicKey,
    })
    const hex = bytesToHex(signature.compact)
    expect(message).toEqual({
      content: CONTENT,
      algorithm: 'MPC_ECDSA_SECP256K1',
      derivationPath: PATH,
      signature: { fullSig: hex, r: hex.slice(0, 64), s: hex.slice(64), v: signature.recovery },
      publicKey: bytesToHex(publicKey),
    })
    expect(message.signature.r).toMatch(/^[0-9a-f]{64}$/)
    expect(message.signature.s).toMatch(/^[0-9a-f]{64}$/)
    expect(message.publicKey).toMatch(/^0[23][0-9a-f]{64}$/)
    expect(BigInt('0x' + message.signature.s) <= N / 2n).toBe(true)
  })

  it('compresses a full public key and reports the path used', () => {
    const full = secp256k1.Point.fromBytes(publicKey).toBytes(false)
    const message = signedMessage({
      content: CONTENT,
      algorithm: 'MPC_ECDSA_SECP256K1',
      path: [44, 60, 0, 0, 3],
      signature,
      publicKey: full,
    })
    expect(message.publicKey).toBe(bytesToHex(publicKey))
    expect(message.derivationPath).toEqual([44, 60, 0, 0, 3])
  })

  it('gives clients what the official web3-provider builds: 0x r s (27 + v) recovers the vault address in viem', async () => {
    const { r, s, v } = signedMessage({
      content: CONTENT,
      algorithm: 'MPC_ECDSA_SECP256K1',
      path: PATH,
      signature,
      publicKey,
    }).signature
    const ethSignature = `0x${r}${s}${(27 + v).toString(16)}` as const
    expect(await recoverAddress({ hash: `0x${CONTENT}`, signature: ethSignature })).toBe(
      addressOf(ETH, publicKey),
    )
    expect(recoverEvmAddress(CONTENT, signature)).toBe(addressOf(ETH, publicKey))
  })

  it('verifies the digest as given (never hashed again)', () => {
    expect(verifySignature('MPC_ECDSA_SECP256K1', publicKey, CONTENT, signature)).toBe(true)
    const hashedAgain = bytesToHex(keccak_256(Buffer.from(CONTENT, 'hex')))
    expect(verifySignature('MPC_ECDSA_SECP256K1', publicKey, hashedAgain, signature)).toBe(false)
  })

  it('rejects a flipped bit anywhere, another key, another content, high-S and a wrong recovery id', () => {
    for (const at of [0, 17, 31, 32, 50, 63])
      expect(
        verifySignature('MPC_ECDSA_SECP256K1', publicKey, CONTENT, {
          ...signature,
          compact: flipBit(signature.compact, at),
        }),
      ).toBe(false)
    const other = secp256k1.getPublicKey(secp256k1.utils.randomSecretKey())
    expect(verifySignature('MPC_ECDSA_SECP256K1', other, CONTENT, signature)).toBe(false)
    expect(verifySignature('MPC_ECDSA_SECP256K1', publicKey, CONTENT.replace(/^5/, '6'), signature)).toBe(
      false,
    )
    const malleated = highS(signature)
    // The malleated signature is mathematically valid: only the low-S rule refuses it.
    expect(
      secp256k1.verify(malleated.compact, Buffer.from(CONTENT, 'hex'), publicKey, {
        prehash: false,
        lowS: false,
      }),
    ).toBe(true)
    expect(verifySignature('MPC_ECDSA_SECP256K1', publicKey, CONTENT, malleated)).toBe(false)
    expect(() => recoverEvmAddress(CONTENT, malleated)).toThrow(
      expect.objectContaining({ code: 'CS_CHAIN_SIGNATURE_INVALID' }),
    )
    expect(
      verifySignature('MPC_ECDSA_SECP256K1', publicKey, CONTENT, {
        ...signature,
        recovery: signature.recovery ^ 1,
      }),
    ).toBe(false)
    expect(verifySignature('MPC_ECDSA_SECP256K1', publicKey, CONTENT, { compact: signature.compact })).toBe(
      false,
    )
    expect(verifySignature('MPC_ECDSA_SECP256K1', publicKey, CONTENT, { ...signature, recovery: 2 })).toBe(
      false,
    )
    expect(
      verifySignature('MPC_ECDSA_SECP256K1', publicKey, CONTENT, {
        ...signature,
        compact: signature.compact.slice(1),
      }),
    ).toBe(false)
  })

  it('never builds a SignedMessage from a signature that does not verify', () => {
    const wrongKey = secp256k1.getPublicKey(secp256k1.utils.randomSecretKey())
    for (const input of [
      { signature, publicKey: wrongKey },
      { signature: highS(signature), publicKey },
      { signature: { ...signature, recovery: signature.recovery ^ 1 }, publicKey },
    ])
      expect(() =>
        signedMessage({ content: CONTENT, algorithm: 'MPC_ECDSA_SECP256K1', path: PATH, ...input }),
      ).toThrow(expect.objectContaining({ code: 'CS_CHAIN_SIGNATURE_INVALID' }))
  })

  it('refuses content that is not a 32-byte hex digest', () => {
    for (const content of [CONTENT.slice(2), `0x${CONTENT}`, CONTENT + '00', 'zz'.repeat(32)])
      expect(() => parseSignedContent('MPC_ECDSA_SECP256K1', content)).toThrow(
        expect.objectContaining({ code: 'CS_CHAIN_CONTENT_INVALID', field: 'content' }),
      )
    expect(verifySignature('MPC_ECDSA_SECP256K1', publicKey, `0x${CONTENT}`, signature)).toBe(false)
  })
})

describe('Ed25519 signed messages', () => {
  const key = new Uint8Array(32).fill(5)
  const edPublic = ed25519.getPublicKey(key)
  const content = bytesToHex(new TextEncoder().encode('a Solana message of any length'))
  const signature: RawSignature = { compact: ed25519.sign(Buffer.from(content, 'hex'), key) }

  it('is the exact SignedMessage: R and S as r and s, v 0, the 32-byte key', () => {
    const hex = bytesToHex(signature.compact)
    expect(
      signedMessage({ content, algorithm: 'MPC_EDDSA_ED25519', path: PATH, signature, publicKey: edPublic }),
    ).toEqual({
      content,
      algorithm: 'MPC_EDDSA_ED25519',
      derivationPath: PATH,
      signature: { fullSig: hex, r: hex.slice(0, 64), s: hex.slice(64), v: 0 },
      publicKey: bytesToHex(edPublic),
    })
  })

  it('verifies the content bytes, and rejects a flipped bit, another key, a non-canonical S and a recovery id', () => {
    expect(verifySignature('MPC_EDDSA_ED25519', edPublic, content, signature)).toBe(true)
    for (const at of [0, 31, 32, 63])
      expect(
        verifySignature('MPC_EDDSA_ED25519', edPublic, content, { compact: flipBit(signature.compact, at) }),
      ).toBe(false)
    expect(
      verifySignature(
        'MPC_EDDSA_ED25519',
        ed25519.getPublicKey(new Uint8Array(32).fill(6)),
        content,
        signature,
      ),
    ).toBe(false)
    expect(verifySignature('MPC_EDDSA_ED25519', edPublic, content + '00', signature)).toBe(false)
    // S + L encodes the same scalar: RFC 8032 requires S < L, so a strict verifier refuses it.
    const L = ed25519.Point.Fn.ORDER
    const S = ed25519.Point.Fn.fromBytes(signature.compact.slice(32))
    const sPlusL = Uint8Array.from(Buffer.from((S + L).toString(16).padStart(64, '0'), 'hex').reverse())
    const nonCanonical = { compact: Uint8Array.from([...signature.compact.slice(0, 32), ...sPlusL]) }
    expect(verifySignature('MPC_EDDSA_ED25519', edPublic, content, nonCanonical)).toBe(false)
    expect(verifySignature('MPC_EDDSA_ED25519', edPublic, content, { ...signature, recovery: 1 })).toBe(false)
  })
})
