/**
 * Checks of a finished RAW transaction's signature (its first signed message, as `@fireblocks/ts-sdk` returns
 * it) made independently of the project: @noble/curves verifies, viem recovers the signer's address.
 */
import { ed25519 } from '@noble/curves/ed25519.js'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import type { TransactionResponse } from '@fireblocks/ts-sdk'
import { recoverAddress } from 'viem'

const bytes = (hex: string) => Buffer.from(hex, 'hex')

/** The first signed message's public key and signature, undefined when either is missing. */
function signatureOf(tx: TransactionResponse) {
  const signed = tx.signedMessages?.[0]
  const { publicKey, content } = signed ?? {}
  const { fullSig, r, s, v } = signed?.signature ?? {}
  if (publicKey === undefined || fullSig === undefined) return undefined
  return { publicKey, content, fullSig, r, s, v }
}

/**
 * Whether the ECDSA secp256k1 signature verifies under the reported public key over `digest` (hex), signed as
 * is (no prehash). `digest` is the content the hub reports it signed unless given: give it whenever the test
 * knows what it asked to be signed.
 */
export function ecdsaVerifies(tx: TransactionResponse, digest?: string): boolean {
  const signature = signatureOf(tx)
  const signedDigest = digest ?? signature?.content
  if (signature === undefined || signedDigest === undefined) return false
  return secp256k1.verify(bytes(signature.fullSig), bytes(signedDigest), bytes(signature.publicKey), {
    prehash: false,
  })
}

/** The Ethereum address that the ECDSA signature (r, s, v) over `digest` (hex) recovers to. */
export async function ecdsaSignerAddress(tx: TransactionResponse, digest: string): Promise<string> {
  const { r, s, v } = signatureOf(tx) ?? {}
  if (r === undefined || s === undefined || v === undefined)
    throw new Error(`transaction ${tx.id} has no ECDSA signature (r, s, v)`)
  return recoverAddress({ hash: `0x${digest}`, signature: { r: `0x${r}`, s: `0x${s}`, yParity: v } })
}

/** Whether the Ed25519 signature verifies over `message` (hex) under the reported public key. */
export function ed25519Verifies(tx: TransactionResponse, message: string): boolean {
  const signature = signatureOf(tx)
  if (signature === undefined) return false
  return ed25519.verify(bytes(signature.fullSig), bytes(message), bytes(signature.publicKey))
}
