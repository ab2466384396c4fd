import { z } from 'zod'
import type { ServiceApp, ServicePlugin } from '../../service/index.js'
import type {
  NewAddress,
  PageRequest,
  VaultAccountRecord,
  VaultStore,
  WalletKey,
} from '../../storage/index.js'
import { SIGNING_ALGORITHMS } from '../../protocol/index.js'
import type { AddressBook, AssetInfo } from './address-book.js'
import { API_CODES, HubApiError, parseInput } from './api-error.js'
import { ADMINS, INITIATORS, READERS, type HubRouteConfig, type Role } from './roles.js'
import {
  createdAddress,
  createdWallet,
  pageUrl,
  pagingOf,
  vaultAccount,
  vaultAsset,
  walletAddress,
  type VaultAssetBody,
} from './vault-wire.js'

/**
 * The vault endpoints of hub-api.md §3 under `/v1`, for the official SDK unchanged: vault accounts, their
 * wallets and deposit addresses, balances from the ledger, public keys. Register at the root (not under a
 * prefix). Authentication is another plugin's: each route only declares its roles.
 */
export interface VaultRoutesDeps {
  readonly store: VaultStore
  readonly addressBook: AddressBook
}

/** §3.2 and §3.6 say 200 by default; a larger page is cut to this. */
const DEFAULT_PAGE = 200
const MAX_PAGE = 500
/** Tries to take the next address index when other replicas keep taking it first. */
const ADDRESS_INDEX_ATTEMPTS = 5

// ——— request parsing ———

type Query = Record<string, string | string[] | undefined>

const text = z
  .string()
  .max(1_024)
  .refine((value) => !value.includes('\u0000'), 'must not contain NUL')
const cursor = z
  .string()
  .regex(/^\d{1,15}$/, 'is not a cursor this server issued')
  .transform(Number)
const limit = z
  .string()
  .regex(/^[1-9]\d{0,5}$/, 'must be a positive integer')
  .transform((value) => Math.min(Number(value), MAX_PAGE))
/** A query key sent once or repeated (the SDK repeats keys for arrays). */
const list = z.union([z.string(), z.array(z.string())]).transform((value) => [value].flat())

const pagedAccountsQuery = z.object({
  namePrefix: text.optional(),
  nameSuffix: text.optional(),
  assetId: text.optional(),
  orderBy: z.enum(['ASC', 'DESC']).default('DESC'),
  before: cursor.optional(),
  after: cursor.optional(),
  limit: limit.default(DEFAULT_PAGE),
  minAmountThreshold: z.never({ error: 'is not supported by this hub' }).optional(),
  tagIds: list.optional(),
  includeTagIds: list.optional(),
  excludeTagIds: list.optional(),
})

const addressPageQuery = z.object({
  before: cursor.optional(),
  after: cursor.optional(),
  limit: limit.default(DEFAULT_PAGE),
})

const createAccountBody = z
  .object({
    name: text.default(''),
    hiddenOnUI: z.boolean().default(false),
    customerRefId: text.optional(),
    autoFuel: z.boolean().default(false),
    vaultType: z.literal('MPC', { error: 'only MPC vault accounts exist on this hub' }).optional(),
    autoAssign: z.boolean().optional(),
  })
  .default({ name: '', hiddenOnUI: false, autoFuel: false })

const createAddressBody = z
  .object({ description: text.default(''), customerRefId: text.default('') })
  .default({ description: '', customerRefId: '' })

const assetTotalsQuery = z.object({ accountNamePrefix: text.optional(), accountNameSuffix: text.optional() })

const publicKeyQuery = z.object({
  derivationPath: z.string(),
  algorithm: z.enum(SIGNING_ALGORITHMS),
  compressed: z.enum(['true', 'false']).default('false'),
})

const addressPublicKeyQuery = z.object({ compressed: z.enum(['true', 'false']).default('false') })

const addressNumber = z
  .string()
  .regex(/^(0|[1-9]\d{0,8})$/, 'must be a non-negative integer')
  .transform(Number)

/** Parses with `schema`, or answers 400 with every problem and the given Fireblocks code. */
const parse = <T extends z.ZodType>(schema: T, value: unknown, code: number, what: string) =>
  parseInput(schema, value, what, code)

function pageRequest(
  query: { before?: number | undefined; after?: number | undefined; limit: number },
  order: PageRequest['order'],
  code: number,
): PageRequest {
  if (query.before !== undefined && query.after !== undefined)
    throw new HubApiError(400, code, 'give either before or after, not both')
  const at =
    query.before !== undefined
      ? { before: query.before }
      : query.after !== undefined
        ? { after: query.after }
        : undefined
  return { order, limit: query.limit, ...(at === undefined ? {} : { cursor: at }) }
}

/** `[44,1,0,0,0]` as Fireblocks documents it, or `44,1,0,0,0`, or `m/44/1/0/0/0`. */
function derivationPath(text: string): number[] {
  const parts = text
    .replace(/^\[|\]$/g, '')
    .replace(/^m\//, '')
    .split(/[,/]/)
    .map((part) => part.trim())
  const path = parts.map((part) => (/^(0|[1-9]\d{0,9})$/.test(part) ? Number(part) : Number.NaN))
  // Workspace keys derive non-hardened children only (indexes below 2^31).
  if (path.length > 10 || !path.every((index) => index < 2 ** 31))
    throw new HubApiError(
      400,
      API_CODES.validation,
      `derivationPath ${JSON.stringify(text)} is not a list of non-hardened indexes such as [44,1,0,0,0]`,
    )
  return path
}

// ——— lookups that answer the §3 errors ———

const notPaired = (what: string) =>
  new HubApiError(
    400,
    API_CODES.validation,
    `the workspace has no ${what} key yet: pair a co-signer first (its key generation creates the workspace keys)`,
  )

/** `default` stands for the first vault account on the asset endpoints (§3). */
const vaultIdParam = (id: string) => (id === 'default' ? '0' : id)

async function requireAccount(store: VaultStore, id: string): Promise<VaultAccountRecord> {
  const account = await store.readAccount(id)
  if (account === undefined)
    throw new HubApiError(404, API_CODES.vaultNotFound, 'Vault account Id was not found')
  return account
}

function requireAsset(addressBook: AddressBook, assetId: string): AssetInfo {
  const asset = addressBook.asset(assetId)
  if (asset === undefined)
    throw new HubApiError(404, API_CODES.assetNotFound, `Asset ${assetId} does not exist on this hub`)
  return asset
}

/** The account, the asset and the wallet of a `/vault/accounts/{id}/{assetId}/…` request. */
async function requireWallet(deps: VaultRoutesDeps, params: WalletParams) {
  const account = await requireAccount(deps.store, vaultIdParam(params.vaultAccountId))
  const asset = requireAsset(deps.addressBook, params.assetId)
  const key = { vaultId: account.id, assetId: asset.id }
  if ((await deps.store.readWallet(key)) === undefined)
    throw new HubApiError(
      404,
      API_CODES.assetNotFound,
      `Vault account ${account.id} has no ${asset.id} wallet: create it first (POST /v1/vault/accounts/${account.id}/${asset.id})`,
    )
  return { account, asset, key }
}

interface WalletParams {
  vaultAccountId: string
  assetId: string
}

/** A deposit address derived from the workspace key, as the store records it. */
async function deriveAddress(
  addressBook: AddressBook,
  asset: AssetInfo,
  key: WalletKey,
  index: number,
  labels: { description: string; customerRefId: string },
): Promise<NewAddress> {
  const derived = await addressBook.deriveAddress(asset.id, Number(key.vaultId), 0, index)
  if (derived === undefined) throw notPaired(asset.algorithm)
  return {
    ...key,
    bip44Index: index,
    address: derived.address,
    derivationPath: derived.path,
    format: derived.format,
    legacyAddress: derived.legacyAddress ?? '',
    ...labels,
    type: 'Permanent',
  }
}

// ——— jobs, one per endpoint ———

/** The `VaultAsset`s of the given accounts' wallets, per account (wallets of assets no longer configured are left out). */
async function accountAssets(
  deps: VaultRoutesDeps,
  accounts: readonly VaultAccountRecord[],
): Promise<Map<string, VaultAssetBody[]>> {
  const wallets = await deps.store.listWallets(accounts.map((account) => account.id))
  const balances = await deps.store.balances(wallets)
  const byAccount = new Map(accounts.map((account) => [account.id, [] as VaultAssetBody[]]))
  for (const balance of balances) {
    const asset = deps.addressBook.asset(balance.assetId)
    if (asset !== undefined) byAccount.get(balance.vaultId)?.push(vaultAsset(asset, balance))
  }
  return byAccount
}

async function createAccount(deps: VaultRoutesDeps, body: unknown) {
  const input = parse(createAccountBody, body, API_CODES.vaultCreateFailed, 'Create Vault Account failed')
  const account = await deps.store.createAccount({
    name: input.name,
    hiddenOnUI: input.hiddenOnUI,
    customerRefId: input.customerRefId ?? null,
    autoFuel: input.autoFuel,
  })
  return vaultAccount(account, [])
}

async function getAccount(deps: VaultRoutesDeps, id: string) {
  const account = await requireAccount(deps.store, id)
  return vaultAccount(account, (await accountAssets(deps, [account])).get(account.id) ?? [])
}

async function pagedAccounts(deps: VaultRoutesDeps, query: Query, requestUrl: URL) {
  const input = parse(
    pagedAccountsQuery,
    query,
    API_CODES.vaultsInvalid,
    'GetVaultAccounts request has invalid values',
  )
  // This hub has no tags: asking for tagged accounts finds none, excluding tags excludes nothing.
  const wantsTags = [...(input.tagIds ?? []), ...(input.includeTagIds ?? [])].length > 0
  const page = wantsTags
    ? { items: [], hasBefore: false, hasAfter: false }
    : await deps.store.pageAccounts(
        {
          ...(input.namePrefix === undefined ? {} : { namePrefix: input.namePrefix }),
          ...(input.nameSuffix === undefined ? {} : { nameSuffix: input.nameSuffix }),
          ...(input.assetId === undefined ? {} : { assetId: input.assetId }),
        },
        pageRequest(input, input.orderBy, API_CODES.vaultsInvalid),
      )
  const assets = await accountAssets(deps, page.items)
  const paging = pagingOf(page, (account) => account.id)
  return {
    accounts: page.items.map((account) => vaultAccount(account, assets.get(account.id) ?? [])),
    paging,
    ...(paging.before === undefined ? {} : { previousUrl: pageUrl(requestUrl, { before: paging.before }) }),
    ...(paging.after === undefined ? {} : { nextUrl: pageUrl(requestUrl, { after: paging.after }) }),
  }
}

/** Creates the wallet with its first deposit address, or answers the existing one (creation is idempotent). */
async function createWallet(deps: VaultRoutesDeps, params: WalletParams) {
  const account = await requireAccount(deps.store, vaultIdParam(params.vaultAccountId))
  const asset = requireAsset(deps.addressBook, params.assetId)
  const key = { vaultId: account.id, assetId: asset.id }
  if ((await deps.store.readWallet(key)) === undefined) {
    const first = await deriveAddress(deps.addressBook, asset, key, 0, { description: '', customerRefId: '' })
    await deps.store.addWallet(first)
  }
  return walletAnswer(deps.store, key)
}

async function walletAnswer(store: VaultStore, key: WalletKey) {
  const [first] = await store.listAddresses(key)
  if (first === undefined) throw new Error(`wallet ${key.vaultId}/${key.assetId} has no address`)
  return createdWallet(first)
}

async function activateWallet(deps: VaultRoutesDeps, params: WalletParams) {
  const { key } = await requireWallet(deps, params)
  return walletAnswer(deps.store, key)
}

async function getWalletBalance(deps: VaultRoutesDeps, params: WalletParams) {
  const { asset, key } = await requireWallet(deps, params)
  const [balance] = await deps.store.balances([key])
  return vaultAsset(asset, balance!)
}

async function pagedAddresses(deps: VaultRoutesDeps, params: WalletParams, query: Query) {
  const { key } = await requireWallet(deps, params)
  const input = parse(addressPageQuery, query, API_CODES.validation, 'invalid query')
  const page = await deps.store.pageAddresses(key, pageRequest(input, 'ASC', API_CODES.validation))
  return {
    addresses: page.items.map(walletAddress),
    paging: pagingOf(page, (address) => String(address.bip44Index)),
  }
}

async function allAddresses(deps: VaultRoutesDeps, params: WalletParams) {
  const { key } = await requireWallet(deps, params)
  return (await deps.store.listAddresses(key)).map(walletAddress)
}

/** A new deposit address at the next BIP44 index; UTXO assets only (§3.7). */
async function createAddress(deps: VaultRoutesDeps, params: WalletParams, body: unknown) {
  const { asset, key } = await requireWallet(deps, params)
  if (!asset.utxo)
    throw new HubApiError(
      400,
      API_CODES.validation,
      `${asset.id} is account-based: its wallet has exactly one deposit address; new addresses are for UTXO assets only`,
    )
  const labels = parse(createAddressBody, body, API_CODES.validation, 'invalid body')
  for (let attempt = 0; attempt < ADDRESS_INDEX_ATTEMPTS; attempt++) {
    const index = ((await deps.store.lastAddressIndex(key)) ?? -1) + 1
    const address = await deriveAddress(deps.addressBook, asset, key, index, labels)
    if (await deps.store.addAddress(address)) return createdAddress(address)
  }
  throw new HubApiError(409, API_CODES.conflict, 'the next address index is being taken concurrently: retry')
}

async function assetTotals(deps: VaultRoutesDeps, query: Query) {
  const input = parse(assetTotalsQuery, query, API_CODES.validation, 'invalid query')
  const totals = await deps.store.assetTotals({
    ...(input.accountNamePrefix === undefined ? {} : { namePrefix: input.accountNamePrefix }),
    ...(input.accountNameSuffix === undefined ? {} : { nameSuffix: input.accountNameSuffix }),
  })
  return deps.addressBook.assets().flatMap((asset) => {
    const sums = totals.get(asset.id)
    return sums === undefined ? [] : [vaultAsset(asset, sums)]
  })
}

async function publicKeyInfo(deps: VaultRoutesDeps, query: Query) {
  const input = parse(publicKeyQuery, query, API_CODES.validation, 'invalid query')
  const info = await deps.addressBook.publicKeyInfo(
    input.algorithm,
    derivationPath(input.derivationPath),
    input.compressed === 'true',
  )
  if (info === undefined) throw notPaired(input.algorithm)
  return info
}

interface AddressKeyParams extends WalletParams {
  change: string
  addressIndex: string
}

async function addressPublicKeyInfo(deps: VaultRoutesDeps, params: AddressKeyParams, query: Query) {
  const account = await requireAccount(deps.store, vaultIdParam(params.vaultAccountId))
  const asset = requireAsset(deps.addressBook, params.assetId)
  const change = parse(addressNumber, params.change, API_CODES.validation, 'change')
  const index = parse(addressNumber, params.addressIndex, API_CODES.validation, 'addressIndex')
  const { compressed } = parse(addressPublicKeyQuery, query, API_CODES.validation, 'invalid query')
  const derived = await deps.addressBook.deriveAddress(asset.id, Number(account.id), change, index)
  const info =
    derived && (await deps.addressBook.publicKeyInfo(asset.algorithm, derived.path, compressed === 'true'))
  if (!info) throw notPaired(asset.algorithm)
  return info
}

// ——— the plugin ———

const roles = (admitted: readonly Role[]): { config: HubRouteConfig } => ({ config: { roles: admitted } })

/** A HubApiError is answered as its `{message, code}`; anything else goes on to the server's handler. */
function answerApiErrors(app: ServiceApp): void {
  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof HubApiError) return reply.code(error.statusCode).send(error.body)
    const status = (error as { statusCode?: unknown }).statusCode
    if (typeof status === 'number' && status >= 400 && status < 500)
      return reply.code(status).send({ message: 'the request is malformed', code: API_CODES.validation })
    throw error
  })
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      message: `no such endpoint: ${request.method} ${request.url.split('?')[0]}`,
      code: API_CODES.notFound,
    }),
  )
}

function fullUrl(request: { protocol: string; host: string; url: string }): URL {
  return new URL(request.url, `${request.protocol}://${request.host}`)
}

export function vaultRoutes(deps: VaultRoutesDeps): ServicePlugin {
  const v1: ServicePlugin = async (app) => {
    answerApiErrors(app)
    type Params<T> = { Params: T }
    app.post('/vault/accounts', roles(INITIATORS), (request) => createAccount(deps, request.body))
    app.get('/vault/accounts_paged', roles(READERS), (request) =>
      pagedAccounts(deps, request.query as Query, fullUrl(request)),
    )
    app.get<Params<{ vaultAccountId: string }>>(
      '/vault/accounts/:vaultAccountId',
      roles(READERS),
      (request) => getAccount(deps, request.params.vaultAccountId),
    )
    app.post<Params<WalletParams>>('/vault/accounts/:vaultAccountId/:assetId', roles(INITIATORS), (request) =>
      createWallet(deps, request.params),
    )
    app.get<Params<WalletParams>>('/vault/accounts/:vaultAccountId/:assetId', roles(READERS), (request) =>
      getWalletBalance(deps, request.params),
    )
    app.post<Params<WalletParams>>(
      '/vault/accounts/:vaultAccountId/:assetId/activate',
      roles(INITIATORS),
      (request) => activateWallet(deps, request.params),
    )
    // The hub keeps balances itself (the ledger), so a refresh is a read.
    app.post<Params<WalletParams>>(
      '/vault/accounts/:vaultAccountId/:assetId/balance',
      roles(INITIATORS),
      (request) => getWalletBalance(deps, request.params),
    )
    app.get<Params<WalletParams>>(
      '/vault/accounts/:vaultAccountId/:assetId/addresses_paginated',
      roles(READERS),
      (request) => pagedAddresses(deps, request.params, request.query as Query),
    )
    app.get<Params<WalletParams>>(
      '/vault/accounts/:vaultAccountId/:assetId/addresses',
      roles(READERS),
      (request) => allAddresses(deps, request.params),
    )
    app.post<Params<WalletParams>>(
      '/vault/accounts/:vaultAccountId/:assetId/addresses',
      roles(ADMINS),
      (request) => createAddress(deps, request.params, request.body),
    )
    app.get<Params<AddressKeyParams>>(
      '/vault/accounts/:vaultAccountId/:assetId/:change/:addressIndex/public_key_info',
      roles(ADMINS),
      (request) => addressPublicKeyInfo(deps, request.params, request.query as Query),
    )
    app.get('/vault/assets', roles(READERS), (request) => assetTotals(deps, request.query as Query))
    app.get('/vault/public_key_info', roles(ADMINS), (request) => publicKeyInfo(deps, request.query as Query))
  }
  return async (app) => {
    await app.register(v1, { prefix: '/v1' })
  }
}
