/**
 * The hub's chain formats: the assets it serves, BIP44 paths and public derivation from the workspace's
 * threshold keys, addresses, amounts, the EVM transfer, and signatures in the Fireblocks wire format. Pure
 * functions, no I/O, except the EVM node client (evm-rpc.ts). See docs/hub-chains.md.
 */
export { addressOf, requireAddress, validateAddress, vaultAddress } from './addresses.js'
export type { AddressCheck, VaultAddress } from './addresses.js'
export { formatAmount, parseAmount, type ParseAmountOptions } from './amounts.js'
export {
  assetRegistry,
  DEFAULT_EVM_CHAIN_ID,
  isSigningAlgorithm,
  listAssetsResponse,
  SIGNING_ALGORITHMS,
  supportedAssetsResponse,
} from './assets.js'
export type {
  AssetRegistry,
  AssetRegistryOptions,
  ChainAsset,
  ListAssetsQuery,
  ListedAsset,
  SigningAlgorithm,
  SupportedAsset,
} from './assets.js'
export {
  assertDerivationPath,
  assetPath,
  deriveEcdsaPublic,
  derivePublicKey,
  parseDerivationPath,
} from './derivation.js'
export type { RootKey, WorkspaceRoots } from './derivation.js'
export { CHAIN_ERRORS, ChainError, type ChainErrorCode } from './errors.js'
export { EvmNodeRefused, EvmRpc } from './evm-rpc.js'
export type { EvmFeeSuggestion, EvmReceipt, EvmRpcOptions } from './evm-rpc.js'
export { attachEvmSignature, buildEvmTransfer, TRANSFER_GAS_LIMIT } from './evm-transfer.js'
export type { EvmTransferRequest, SignedEvmTransfer, UnsignedEvmTransfer } from './evm-transfer.js'
export { publicKeyInfo, type PublicKeyInfoRequest, type PublicKeyInformation } from './public-key-info.js'
export {
  encodePublicKey,
  parseSignedContent,
  recoverEvmAddress,
  signedMessage,
  verifySignature,
} from './signatures.js'
export type { RawSignature, SignedMessage, SignedMessageInput } from './signatures.js'
