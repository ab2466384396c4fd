import { CountersignError, defineErrorCodes } from '../../core/index.js'

/** The codes of the hub's chain formats (`src/hub/chains`): amounts, paths, keys, transactions, signatures. */
export const CHAIN_ERRORS = defineErrorCodes('hub', {
  CS_CHAIN_AMOUNT_INVALID: {
    meaning:
      'an amount is not a non-negative decimal string, or has more decimal places than its asset allows',
    fix: 'send the amount as a decimal string such as "0.001", with at most the decimals GET /v1/supported_assets lists for the asset',
  },
  CS_CHAIN_PATH_INVALID: {
    meaning:
      'a derivation path is not [44, coinType, account, change, index] of non-hardened integers below 2^31',
    fix: 'send five whole numbers such as [44, 1, 7, 0, 0]; threshold keys derive only non-hardened children',
  },
  CS_CHAIN_KEY_INVALID: {
    meaning: 'a public key or chain code has the wrong length or is not a point of its curve',
    fix: 'pass the workspace root key as recorded at key generation: 33-byte secp256k1 or 32-byte Ed25519, 32-byte chain code',
  },
  CS_CHAIN_ADDRESS_INVALID: {
    meaning: 'an address is not a valid address of the asset’s network',
    fix: 'check the address against the asset: EIP-55 checksummed 0x address, bech32 tb1 address, or base58 32-byte key',
  },
  CS_CHAIN_TRANSACTION_INVALID: {
    meaning: 'a transaction field is out of range for the chain (nonce, fees, value, chain id)',
    fix: 'correct the field named in the message',
  },
  CS_CHAIN_CONTENT_INVALID: {
    meaning:
      'a message to sign is not hexadecimal, or not a 32-byte digest for ECDSA (which signs the content as given, never hashing it)',
    fix: 'send content as hex without 0x: for MPC_ECDSA_SECP256K1 the 64-digit hash of the message (e.g. keccak256)',
  },
  CS_CHAIN_SIGNATURE_INVALID: {
    meaning:
      'a signature is malformed, high-S, has the wrong recovery id, or does not verify for the key and content',
    fix: 'do not record it: the signing party is faulty or cheating; retry the signature with another session',
  },
  CS_CHAIN_NODE_UNAVAILABLE: {
    meaning:
      'a chain node did not answer a JSON-RPC call in time, answered an HTTP error, or answered something that is not JSON-RPC',
    fix: 'check chains.<asset>.rpcUrl in hub.yaml and that the node is up and synced; the hub retries on its next sweep',
  },
  CS_CHAIN_NODE_REFUSED: {
    meaning: 'a chain node answered a JSON-RPC call with an error object (its message is quoted)',
    fix: 'read the node’s message: a transaction it refuses (nonce, fees, funds) fails with it; a method it lacks needs another node',
  },
  CS_CHAIN_NODE_MISMATCH: {
    meaning:
      'the node configured for an asset serves another chain than the one the hub signs for (eth_chainId differs)',
    fix: 'point chains.<asset>.rpcUrl at a node of the asset’s chain, or set evmChainId in hub.yaml to the node’s chain',
  },
})
export type ChainErrorCode = keyof typeof CHAIN_ERRORS.codes

/** Every refusal of the chain formats; `field` names the request field at fault when there is one. */
export class ChainError extends CountersignError {
  readonly code: ChainErrorCode
  readonly field: string | undefined

  constructor(code: ChainErrorCode, message: string, options?: { field?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.field = options?.field
  }
}
