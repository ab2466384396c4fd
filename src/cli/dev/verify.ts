import { secp256k1 } from '@noble/curves/secp256k1.js'
import { ethAddressOf, readSignedEthTransaction } from '../../testing/index.js'

/** One verification the demo prints: what was checked, and whether it held. */
export interface Check {
  readonly ok: boolean
  readonly label: string
}

/** `signedMessages[]` of a RAW transaction, as the API answers it. */
export interface SignedMessageView {
  readonly content: string
  readonly derivationPath?: readonly number[]
  readonly publicKey: string
  readonly signature: { readonly fullSig: string; readonly v: number }
}

const bytes = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'))
const sameAddress = (a: string, b: string) => a.toLowerCase() === b.toLowerCase()

/** Recomputed here, never taken from the hub's word: the signature, its key, and who it recovers to. */
export function checkRawSignature(signed: SignedMessageView, digest: string, vaultAddress: string): Check[] {
  const { fullSig, v } = signed.signature
  const valid = secp256k1.verify(bytes(fullSig), bytes(digest), bytes(signed.publicKey), {
    prehash: false,
    lowS: true,
  })
  const recovered = ethAddressOf(
    secp256k1.Signature.fromBytes(bytes(fullSig))
      .addRecoveryBit(v)
      .recoverPublicKey(bytes(digest))
      .toHex(false),
  )
  const keyAddress = ethAddressOf(signed.publicKey)
  return [
    { ok: signed.content === digest, label: `the signed content is the digest ${digest}` },
    { ok: valid, label: `the signature verifies under the derived public key ${signed.publicKey}` },
    {
      ok: sameAddress(keyAddress, vaultAddress),
      label: `that key is the vault address's key (${keyAddress})`,
    },
    {
      ok: sameAddress(recovered, vaultAddress),
      label: `the signature (r, s, v=${v}) recovers to the vault address ${recovered}`,
    },
  ]
}

/** The signed EIP-1559 transaction decoded, its sender recovered from its own signature. */
export function checkSignedTransfer(
  signedTransaction: string,
  expected: { readonly from: string; readonly to: string; readonly wei: bigint; readonly txHash: string },
): Check[] {
  const transaction = readSignedEthTransaction(signedTransaction)
  return [
    {
      ok: sameAddress(transaction.from, expected.from),
      label: `the signed transaction recovers to the vault address ${transaction.from}`,
    },
    {
      ok: sameAddress(transaction.to, expected.to) && transaction.value === expected.wei,
      label: `it sends ${transaction.value} wei to ${transaction.to} (chain ${transaction.chainId}, nonce ${transaction.nonce})`,
    },
    {
      ok: transaction.hash === expected.txHash,
      label: `its hash is the transaction's txHash ${transaction.hash}`,
    },
  ]
}

/** What the callback handler recorded for a transaction's signing request: it must have approved it. */
export function checkApproval(
  decision:
    { readonly action: string; readonly ruleId: string | null; readonly reason: string | null } | undefined,
): Check {
  if (decision === undefined) return { ok: false, label: 'the callback handler recorded no answer to it' }
  return {
    ok: decision.action === 'APPROVE',
    label: `the callback handler answered ${decision.action} (rule ${decision.ruleId ?? '-'}: ${decision.reason ?? '-'})`,
  }
}
