import type { SigningAlgorithm } from '../../protocol/index.js'
import { countEarlierTransfers, type StorageDatabase } from '../../storage/index.js'
import {
  addressOf,
  attachEvmSignature,
  assetPath,
  buildEvmTransfer,
  derivePublicKey,
  formatAmount,
  parseAmount,
  publicKeyInfo,
  requireAddress,
  signedMessage,
  validateAddress,
  vaultAddress,
  verifySignature,
  type AddressCheck,
  type AssetRegistry,
  type ChainAsset,
  type RawSignature,
  type UnsignedEvmTransfer,
} from '../chains/index.js'
import type {
  ChainNetwork,
  PrepareTransferInput,
  PreparedTransfer,
  SigningMessage,
  TransactionChain,
} from '../pipeline/ports.js'
import type { AddressBook, AssetInfo, DerivedAddress, PublicKeyInfo } from '../rest/address-book.js'
import { HubApiError, API_CODES } from '../rest/api-error.js'
import type { EvmChainNode } from './evm-node.js'
import type { WorkspaceKeys } from './workspace-keys.js'

/**
 * The hub's chains as the vault routes (AddressBook) and the transaction pipeline (TransactionChain) use
 * them: assets from the registry, keys from the workspace, formats from ./chains, and the chain nodes
 * (ChainNetwork) of the assets that have one.
 */
export interface EvmFees {
  /** Wei. */
  readonly maxFeePerGas: bigint
  readonly maxPriorityFeePerGas: bigint
}

/** 30 gwei / 1 gwei: used when no chain node is configured to say better. */
export const DEFAULT_EVM_FEES: EvmFees = {
  maxFeePerGas: 30_000_000_000n,
  maxPriorityFeePerGas: 1_000_000_000n,
}
const GWEI = 1_000_000_000n
const TRANSFER_GAS = 21_000n

/** A signature as the link carries it: `{r, s, v}` hex for ECDSA, 128 hex characters for Ed25519. */
export function rawSignatureOf(algorithm: SigningAlgorithm, wire: unknown): RawSignature {
  if (algorithm === 'MPC_EDDSA_ED25519' && typeof wire === 'string')
    return { compact: Buffer.from(wire, 'hex') }
  const ecdsa = wire as { r?: unknown; s?: unknown; v?: unknown } | undefined
  if (typeof ecdsa?.r === 'string' && typeof ecdsa.s === 'string' && (ecdsa.v === 0 || ecdsa.v === 1))
    return { compact: Buffer.from(ecdsa.r + ecdsa.s, 'hex'), recovery: ecdsa.v }
  return { compact: new Uint8Array(0) }
}

function notPaired(): HubApiError {
  return new HubApiError(
    400,
    API_CODES.validation,
    'the workspace has no keys yet: pair a co-signer (countersign hub pairing-token) and let it start',
  )
}

export class WorkspaceChains implements AddressBook, TransactionChain, ChainNetwork {
  private readonly registry: AssetRegistry
  private readonly keys: WorkspaceKeys
  private readonly db: StorageDatabase
  private readonly fees: EvmFees
  private readonly nodes: ReadonlyMap<string, EvmChainNode>

  constructor(options: {
    registry: AssetRegistry
    keys: WorkspaceKeys
    db: StorageDatabase
    fees?: EvmFees
    /** The chain nodes of the assets that have one (connectEvmNodes). */
    nodes?: ReadonlyMap<string, EvmChainNode>
  }) {
    this.registry = options.registry
    this.keys = options.keys
    this.db = options.db
    this.fees = options.fees ?? DEFAULT_EVM_FEES
    this.nodes = options.nodes ?? new Map()
  }

  node(assetId: string): EvmChainNode | undefined {
    return this.nodes.get(assetId)
  }

  chainAsset(assetId: string): ChainAsset {
    const asset = this.registry.get(assetId)
    if (asset === undefined)
      throw new HubApiError(404, API_CODES.assetNotFound, `Asset ${assetId} is not supported by this hub`)
    return asset
  }

  validateDestination(assetId: string, address: string): AddressCheck {
    return validateAddress(this.chainAsset(assetId), address)
  }

  /** Throws ChainError when `amount` is not a positive amount of the asset (precision included). */
  checkAmount(assetId: string, amount: string): void {
    parseAmount(this.chainAsset(assetId), amount, { positive: true })
  }

  // ——— AddressBook ———

  asset(assetId: string): AssetInfo | undefined {
    const asset = this.registry.get(assetId)
    return asset === undefined ? undefined : this.info(asset)
  }

  assets(): readonly AssetInfo[] {
    return [...this.registry.values()].map((asset) => this.info(asset))
  }

  async deriveAddress(
    assetId: string,
    vaultId: number,
    change: number,
    index: number,
  ): Promise<DerivedAddress | undefined> {
    const roots = await this.keys.roots()
    if (roots === undefined) return undefined
    const asset = this.chainAsset(assetId)
    const path = assetPath(asset, vaultId, index, change)
    const publicKey = derivePublicKey(asset.algorithm, roots, path)
    return {
      address: addressOf(asset, publicKey),
      path,
      publicKey: Buffer.from(publicKey).toString('hex'),
      format: asset.addressFormat,
    }
  }

  async publicKeyInfo(
    algorithm: SigningAlgorithm,
    path: readonly number[],
    compressed: boolean,
  ): Promise<PublicKeyInfo | undefined> {
    const roots = await this.keys.roots()
    return roots === undefined ? undefined : publicKeyInfo(roots, { algorithm, path, compressed })
  }

  // ——— TransactionChain ———

  algorithm(assetId: string): SigningAlgorithm {
    return this.chainAsset(assetId).algorithm
  }

  path(assetId: string, vaultId: string, change: number, index: number): number[] {
    return assetPath(this.chainAsset(assetId), Number(vaultId), index, change)
  }

  async sourceAddress(assetId: string, vaultId: string): Promise<string> {
    const roots = await this.keys.roots()
    if (roots === undefined) throw notPaired()
    return vaultAddress(this.chainAsset(assetId), roots, Number(vaultId)).address
  }

  async prepareTransfer(input: PrepareTransferInput): Promise<PreparedTransfer> {
    const asset = this.chainAsset(input.assetId)
    if (asset.chain !== 'evm')
      throw new HubApiError(
        400,
        API_CODES.validation,
        `TRANSFER of ${asset.id} is not supported by this hub: use RAW`,
      )
    const from = await this.sourceAddress(asset.id, input.vaultId)
    const value = parseAmount(asset, input.amount, { positive: true })
    const fixed = input.fixed ?? (await this.fixTransfer(input, from))
    const unsigned: UnsignedEvmTransfer = buildEvmTransfer(asset, {
      from,
      to: requireAddress(asset, input.destinationAddress, 'destination.oneTimeAddress.address'),
      value,
      nonce: BigInt(String(fixed.nonce)),
      maxFeePerGas: BigInt(String(fixed.maxFeePerGas)),
      maxPriorityFeePerGas: BigInt(String(fixed.maxPriorityFeePerGas)),
    })
    const amount = formatAmount(asset, value)
    const maxFee = BigInt(String(fixed.maxFeePerGas))
    return {
      maxCost: value + maxFee * TRANSFER_GAS,
      message: {
        content: unsigned.signingHash,
        path: assetPath(asset, Number(input.vaultId)),
        preimage: unsigned.unsignedTransaction.replace(/^0x/, ''),
      },
      detail: {
        amountInfo: { amount, requestedAmount: amount, netAmount: amount, amountUSD: '0' },
        feeInfo: {
          networkFee: formatAmount(asset, maxFee * TRANSFER_GAS),
          gasPrice: (Number(maxFee) / Number(GWEI)).toString(),
        },
      },
      fixed,
      finish: (signature) => {
        const signed = attachEvmSignature(unsigned, rawSignatureOf(asset.algorithm, signature))
        return { signedTransaction: signed.rawTransaction, txHash: signed.txHash }
      },
    }
  }

  /** Nonce and fees of a new transfer: from the asset's node, or the count of earlier transfers and fixed fees. */
  private async fixTransfer(input: PrepareTransferInput, from: string): Promise<Record<string, string>> {
    const node = this.nodes.get(input.assetId)
    const [nonce, fees] =
      node === undefined
        ? [await this.countEarlierTransfers(input), this.fees]
        : await Promise.all([node.nextNonce(from), node.fees()])
    return {
      nonce: String(nonce),
      maxFeePerGas: String(fees.maxFeePerGas),
      maxPriorityFeePerGas: String(fees.maxPriorityFeePerGas),
    }
  }

  private countEarlierTransfers(input: PrepareTransferInput): Promise<number> {
    const { vaultId: sourceId, assetId, createdAt, txId: id } = input
    return this.db.read((db) => countEarlierTransfers(db, { sourceId, assetId, createdAt, id }))
  }

  async verify(algorithm: SigningAlgorithm, message: SigningMessage, signature: unknown): Promise<boolean> {
    const roots = await this.keys.roots()
    if (roots === undefined) return false
    const publicKey = derivePublicKey(algorithm, roots, message.path)
    return verifySignature(algorithm, publicKey, message.content, rawSignatureOf(algorithm, signature))
  }

  async signedMessage(
    algorithm: SigningAlgorithm,
    message: SigningMessage,
    signature: unknown,
  ): Promise<unknown> {
    const roots = await this.keys.roots()
    if (roots === undefined) throw notPaired()
    return signedMessage({
      content: message.content,
      algorithm,
      path: message.path,
      signature: rawSignatureOf(algorithm, signature),
      publicKey: derivePublicKey(algorithm, roots, message.path),
    })
  }

  private info(asset: ChainAsset): AssetInfo {
    return {
      id: asset.id,
      name: asset.name,
      decimals: asset.decimals,
      algorithm: asset.algorithm,
      utxo: asset.utxo,
      nativeAsset: asset.id,
    }
  }
}
