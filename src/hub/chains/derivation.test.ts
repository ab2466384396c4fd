import { ed25519 } from '@noble/curves/ed25519.js'
import { bytesToNumberLE, numberToBytesBE } from '@noble/curves/utils.js'
import { hmac } from '@noble/hashes/hmac.js'
import { sha512 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { HDKey } from '@scure/bip32'
import { describe, expect, it } from 'vitest'
import {
  assetPath,
  assetRegistry,
  deriveEcdsaPublic,
  derivePublicKey,
  parseDerivationPath,
  publicKeyInfo,
  type WorkspaceRoots,
} from './index.js'

const registry = assetRegistry()
const ETH = registry.get('ETH_TEST6')!
const SOL = registry.get('SOL_TEST')!

/** BIP32 test vector 1 (seed 000102…0f): the extended public keys of its chain. */
const TV1 = {
  m0h: 'xpub68Gmy5EdvgibQVfPdqkBBCHxA5htiqg55crXYuXoQRKfDBFA1WEjWgP6LHhwBZeNK1VTsfTFUHCdrfp1bgwQ9xv5ski8PX9rL2dZXvgGDnw',
  m0h1: 'xpub6ASuArnXKPbfEwhqN6e3mwBcDTgzisQN1wXN9BJcM47sSikHjJf3UFHKkNAWbWMiGj7Wf5uMash7SyYq527Hqck2AxYysAA7xmALppuCkwQ',
  m0h1_2h:
    'xpub6D4BDPcP2GT577Vvch3R8wDkScZWzQzMMUm3PWbmWvVJrZwQY4VUNgqFJPMM3No2dFDFGTsxxpG5uJh7n7epu4trkrX7x7DogT5Uv6fcLW5',
  m0h1_2h_2_1000000000:
    'xpub6H1LXWLaKsWFhvm6RVpEL9P4KfRZSW7abD2ttkWP3SSQvnyA8FSVqNTEcYFgJS2UaFcxupHiYkro49S8yGasTvXEYBVPamhGW6cFJodrTHy',
}
const node = (xpub: string) => {
  const key = HDKey.fromExtendedKey(xpub)
  return { publicKey: key.publicKey!, chainCode: key.chainCode! }
}

/** Fixed roots: the ECDSA one is TV1's m/0H, the Ed25519 one the key of secret 01…01 with chain code 02…02. */
const roots: WorkspaceRoots = {
  ecdsa: node(TV1.m0h),
  eddsa: {
    publicKey: ed25519.getPublicKey(new Uint8Array(32).fill(1)),
    chainCode: new Uint8Array(32).fill(2),
  },
}

describe('public derivation', () => {
  it('follows the public chain of BIP32 test vector 1 (m/0H → m/0H/1, m/0H/1/2H → …/2/1000000000)', () => {
    expect(deriveEcdsaPublic(node(TV1.m0h), [1])).toEqual(node(TV1.m0h1))
    expect(deriveEcdsaPublic(node(TV1.m0h1_2h), [2, 1_000_000_000])).toEqual(node(TV1.m0h1_2h_2_1000000000))
  })

  it('pins the Ed25519 additive-tweak derivation (a change would move every Solana address)', () => {
    const key = bytesToHex(derivePublicKey('MPC_EDDSA_ED25519', roots, [44, 1, 7, 0, 0]))
    expect(key).toBe(PINNED_EDDSA_CHILD)
    expect(bytesToHex(derivePublicKey('MPC_EDDSA_ED25519', roots, [44, 1, 7, 0, 1]))).not.toBe(key)
  })

  it('matches the formula of docs/mpc.md computed here from a plain secret: child = (a + Σ t) · G', () => {
    const { scalar } = ed25519.utils.getExtendedPublicKey(new Uint8Array(32).fill(1))
    const L = ed25519.Point.Fn.ORDER
    let secret = scalar
    let chainCode = roots.eddsa.chainCode
    for (const index of [44, 1, 7, 0, 0]) {
      const A = ed25519.Point.BASE.multiply(secret).toBytes()
      const mac = hmac(sha512, chainCode, new Uint8Array([...A, ...numberToBytesBE(index, 4)]))
      secret = (secret + bytesToNumberLE(mac.slice(0, 32))) % L
      chainCode = mac.slice(32)
    }
    expect(bytesToHex(ed25519.Point.BASE.multiply(secret).toBytes())).toBe(PINNED_EDDSA_CHILD)
  })

  it('derives each asset from its own key: ECDSA for ETH, Ed25519 for SOL', () => {
    expect(derivePublicKey(ETH.algorithm, roots, assetPath(ETH, 7))).toHaveLength(33)
    expect(derivePublicKey(SOL.algorithm, roots, assetPath(SOL, 7))).toHaveLength(32)
  })

  it('refuses a root that is not a key', () => {
    const broken = {
      ...roots,
      ecdsa: { publicKey: new Uint8Array(33).fill(9), chainCode: roots.ecdsa.chainCode },
    }
    expect(() => derivePublicKey('MPC_ECDSA_SECP256K1', broken, [44, 1, 0, 0, 0])).toThrow(
      expect.objectContaining({ code: 'CS_CHAIN_KEY_INVALID' }),
    )
    const shortCode = { ...roots, eddsa: { publicKey: roots.eddsa.publicKey, chainCode: new Uint8Array(16) } }
    expect(() => derivePublicKey('MPC_EDDSA_ED25519', shortCode, [44, 1, 0, 0, 0])).toThrow(
      expect.objectContaining({ code: 'CS_CHAIN_KEY_INVALID' }),
    )
  })
})

describe('paths', () => {
  it('puts the vault account at the BIP44 account level, coin type 1 for test assets', () => {
    expect(assetPath(ETH, 7)).toEqual([44, 1, 7, 0, 0])
    expect(assetPath(registry.get('BTC_TEST')!, 3, 12)).toEqual([44, 1, 3, 0, 12])
  })

  it.each([
    ['[]', /five numbers/],
    ['[44,1,7,0]', /five numbers/],
    ['[49,1,7,0,0]', /start with 44/],
    ['[44,1,2147483648,0,0]', /2147483648.*non-hardened/],
    ['[44,1,-1,0,0]', /-1/],
    ['[44,1,1.5,0,0]', /1\.5/],
    ['[44,"1",7,0,0]', /"1"/],
    ['44,1,7,0,0', /JSON array/],
  ])('refuses the path %s', (text, reason) => {
    expect(() => parseDerivationPath(text)).toThrow(
      expect.objectContaining({
        code: 'CS_CHAIN_PATH_INVALID',
        field: 'derivationPath',
        message: expect.stringMatching(reason),
      }),
    )
  })

  it('refuses a sparse path given by code (a hole is not an index)', () => {
    const holey = new Array<number>(5)
    Object.assign(holey, { 0: 44, 1: 1, 2: 7, 4: 0 })
    expect(() => derivePublicKey('MPC_ECDSA_SECP256K1', roots, holey)).toThrow(
      expect.objectContaining({
        code: 'CS_CHAIN_PATH_INVALID',
        message: expect.stringMatching(/nothing at 3/),
      }),
    )
  })

  it('parses the public_key_info query parameter and refuses hardened indices in public derivation', () => {
    expect(parseDerivationPath('[44,1,7,0,0]')).toEqual([44, 1, 7, 0, 0])
    expect(() => deriveEcdsaPublic(roots.ecdsa, [2 ** 31])).toThrow(
      expect.objectContaining({ code: 'CS_CHAIN_PATH_INVALID' }),
    )
    expect(() => assetPath(ETH, 2 ** 31)).toThrow(expect.objectContaining({ code: 'CS_CHAIN_PATH_INVALID' }))
  })
})

describe('publicKeyInfo', () => {
  it('answers { algorithm, derivationPath, publicKey } with the derived key, compressed unless asked', () => {
    const path = [44, 1, 7, 0, 0]
    const info = publicKeyInfo(roots, { algorithm: 'MPC_ECDSA_SECP256K1', path })
    expect(info).toEqual({
      algorithm: 'MPC_ECDSA_SECP256K1',
      derivationPath: path,
      publicKey: bytesToHex(derivePublicKey('MPC_ECDSA_SECP256K1', roots, path)),
    })
    expect(info.publicKey).toMatch(/^0[23][0-9a-f]{64}$/)
    const full = publicKeyInfo(roots, { algorithm: 'MPC_ECDSA_SECP256K1', path, compressed: false })
    expect(full.publicKey).toMatch(/^04[0-9a-f]{128}$/)
    expect(full.publicKey.slice(2, 66)).toBe(info.publicKey.slice(2))
    const eddsa = publicKeyInfo(roots, { algorithm: 'MPC_EDDSA_ED25519', path })
    expect(hexToBytes(eddsa.publicKey)).toEqual(derivePublicKey('MPC_EDDSA_ED25519', roots, path))
  })
})

const PINNED_EDDSA_CHILD = '081a159c3d1dd1d37aa038cdaa15a81b52c4602358193c4e9df3a9ca1e69e14a'
