import { createDecimal } from 'micro-eth-signer/utils.js'
import type { LedgerSums, NewAddress, Page, VaultAccountRecord } from '../../storage/index.js'
import type { AssetInfo } from './address-book.js'

/**
 * The wire shapes of hub-api.md §3, built from stored records: what the SDK's models name, every amount a
 * decimal string in the asset's units.
 */

/** `VaultAsset` (§3.5): settled funds are the total; outgoing pending amounts are not available. */
export function vaultAsset(asset: AssetInfo, sums: LedgerSums) {
  const decimal = createDecimal(asset.decimals)
  const amount = (baseUnits: bigint) => decimal.encode(baseUnits)
  const total = amount(sums.settled)
  return {
    id: asset.id,
    total,
    balance: total,
    available: amount(sums.settled - sums.pendingDebits),
    pending: amount(sums.pendingDebits),
    frozen: '0',
    lockedAmount: '0',
    staked: '0',
    totalStakedCPU: '0',
    totalStakedNetwork: '0',
    selfStakedCPU: '0',
    selfStakedNetwork: '0',
    pendingRefundCPU: '0',
    pendingRefundNetwork: '0',
  }
}

export type VaultAssetBody = ReturnType<typeof vaultAsset>

/** `VaultAccount` (§3.1, §3.3). */
export function vaultAccount(account: VaultAccountRecord, assets: readonly VaultAssetBody[]) {
  return {
    id: account.id,
    name: account.name,
    hiddenOnUI: account.hiddenOnUI,
    ...(account.customerRefId === null ? {} : { customerRefId: account.customerRefId }),
    autoFuel: account.autoFuel,
    assets,
  }
}

/** `CreateVaultAssetResponse` (§3.4): `id` is the vault account's. */
export function createdWallet(address: NewAddress) {
  return {
    id: address.vaultId,
    address: address.address,
    legacyAddress: address.legacyAddress,
    tag: '',
    status: 'READY',
  }
}

/** `VaultWalletAddress` (§3.6), also the items of the legacy bare-array `GET …/addresses`. */
export function walletAddress(address: NewAddress) {
  return {
    assetId: address.assetId,
    address: address.address,
    description: address.description,
    tag: '',
    type: address.type,
    customerRefId: address.customerRefId,
    addressFormat: address.format,
    legacyAddress: address.legacyAddress,
    enterpriseAddress: '',
    bip44AddressIndex: address.bip44Index,
    userDefined: false,
  }
}

/** `CreateAddressResponse` (§3.7). */
export function createdAddress(address: NewAddress) {
  return {
    address: address.address,
    legacyAddress: address.legacyAddress,
    enterpriseAddress: '',
    tag: '',
    bip44AddressIndex: address.bip44Index,
  }
}

/**
 * The cursors of a page: `before` is the key of its first item, `after` of its last; a side with nothing
 * more has none (that is how callers see the end).
 */
export function pagingOf<T>(page: Page<T>, keyOf: (item: T) => string) {
  const first = page.items[0]
  const last = page.items.at(-1)
  return {
    ...(page.hasBefore && first !== undefined ? { before: keyOf(first) } : {}),
    ...(page.hasAfter && last !== undefined ? { after: keyOf(last) } : {}),
  }
}

/** The request's own full URL with its cursor replaced: `previousUrl`/`nextUrl` of §3.2. */
export function pageUrl(requestUrl: URL, cursor: { before: string } | { after: string }): string {
  const url = new URL(requestUrl)
  url.searchParams.delete('before')
  url.searchParams.delete('after')
  for (const [key, value] of Object.entries(cursor)) url.searchParams.set(key, value)
  return url.toString()
}
