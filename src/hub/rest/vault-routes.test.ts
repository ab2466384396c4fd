import { createHash } from 'node:crypto'
import { Fireblocks, FireblocksError } from '@fireblocks/ts-sdk'
import pino from 'pino'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { systemClock } from '../../core/index.js'
import { generateRsaKeyPair } from '../../keys/index.js'
import { createServiceServer, type ServiceApp } from '../../service/index.js'
import {
  HUB_VAULT_MIGRATIONS,
  migrate,
  openDatabase,
  vaultStore,
  type StorageDatabase,
  type VaultStore,
} from '../../storage/index.js'
import { sqliteDatabase } from '../../../test/support/databases.js'
import type { AddressBook, AssetInfo } from './address-book.js'
import { setPrincipal, type HubRouteConfig } from './roles.js'
import { vaultRoutes } from './vault-routes.js'

const ASSETS: AssetInfo[] = [
  {
    id: 'ETH_TEST',
    name: 'Ether (test)',
    decimals: 18,
    algorithm: 'MPC_ECDSA_SECP256K1',
    utxo: false,
    nativeAsset: 'ETH_TEST',
  },
  {
    id: 'BTC_TEST',
    name: 'Bitcoin (test)',
    decimals: 8,
    algorithm: 'MPC_ECDSA_SECP256K1',
    utxo: true,
    nativeAsset: 'BTC_TEST',
  },
]

const digest = (...parts: unknown[]) => createHash('sha256').update(JSON.stringify(parts)).digest('hex')

/** Addresses and keys that are a deterministic function of their path; `paired` says whether keys exist. */
function fakeAddressBook(state: { paired: boolean }): AddressBook {
  return {
    asset: (assetId) => ASSETS.find((asset) => asset.id === assetId),
    assets: () => ASSETS,
    deriveAddress: async (assetId, vaultId, change, index) => {
      if (!state.paired) return undefined
      const path = [44, 1, vaultId, change, index]
      return assetId === 'BTC_TEST'
        ? {
            address: `tb1q${digest(path).slice(0, 38)}`,
            path,
            publicKey: `02${digest('pk', path)}`,
            format: 'SEGWIT',
          }
        : {
            address: `0x${digest(path).slice(0, 40)}`,
            path,
            publicKey: `02${digest('pk', path)}`,
            format: 'BASE',
          }
    },
    publicKeyInfo: async (algorithm, path, compressed) =>
      state.paired
        ? {
            algorithm,
            derivationPath: [...path],
            publicKey: `${compressed ? '02' : '04'}${digest('pk', path)}`,
          }
        : undefined,
  }
}

/** The error the SDK throws, for assertions on it. */
async function failure(call: Promise<unknown>): Promise<FireblocksError<{ message: string; code: number }>> {
  const error: unknown = await call.then(
    () => undefined,
    (thrown: unknown) => thrown,
  )
  expect(error).toBeInstanceOf(FireblocksError)
  return error as FireblocksError<{ message: string; code: number }>
}

describe('vault routes through the official Fireblocks SDK', () => {
  const keys = { paired: true }
  const routesWithoutRoles: string[] = []
  let app: ServiceApp
  let database: StorageDatabase
  let store: VaultStore
  let fireblocks: Fireblocks
  let baseUrl: string

  beforeAll(async () => {
    database = openDatabase(await sqliteDatabase.freshUrl())
    await migrate(database, HUB_VAULT_MIGRATIONS, systemClock.now())
    store = vaultStore(database, systemClock)
    app = createServiceServer({ log: pino({ level: 'silent' }) })
    // Authentication is another plugin's; this stands in for it, and notes any route that declares no roles.
    app.addHook('onRequest', async (request) => {
      const config = request.routeOptions.config as Partial<HubRouteConfig>
      if (request.routeOptions.url !== undefined && !Array.isArray(config.roles))
        routesWithoutRoles.push(request.routeOptions.url)
      setPrincipal(request, { id: 'api-user', name: 'tests', role: 'ADMIN' })
    })
    await app.register(vaultRoutes({ store, addressBook: fakeAddressBook(keys) }))
    await app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = app.server.address() as { port: number }
    baseUrl = `http://127.0.0.1:${port}/v1`
    const { privateKeyPem } = await generateRsaKeyPair(2048)
    fireblocks = new Fireblocks({ apiKey: 'api-user', secretKey: privateKeyPem, basePath: baseUrl })
  })
  beforeEach(() => {
    keys.paired = true
  })
  afterAll(async () => {
    await app?.close()
    await database?.close()
    await sqliteDatabase.dropAll()
    expect(routesWithoutRoles).toEqual([])
  })

  const newAccount = async (name: string) =>
    (
      await fireblocks.vaults.createVaultAccount({
        createVaultAccountRequest: { name, hiddenOnUI: false, autoFuel: false },
      })
    ).data

  it('runs the minimal flow: account, wallet, its deposit address, its balance (hub-api.md §10 rows 1-3b)', async () => {
    const created = await fireblocks.vaults.createVaultAccount({
      createVaultAccountRequest: { name: 'hub-demo', hiddenOnUI: false, autoFuel: false },
    })
    expect(created.statusCode).toBe(200)
    expect(created.data).toEqual({
      id: created.data.id,
      name: 'hub-demo',
      hiddenOnUI: false,
      autoFuel: false,
      assets: [],
    })
    expect(created.data.id).toMatch(/^\d+$/)
    const vaultAccountId = created.data.id!

    const wallet = await fireblocks.vaults.createVaultAccountAsset({ vaultAccountId, assetId: 'ETH_TEST' })
    const address = `0x${digest([44, 1, Number(vaultAccountId), 0, 0]).slice(0, 40)}`
    expect(wallet.data).toEqual({ id: vaultAccountId, address, legacyAddress: '', tag: '', status: 'READY' })
    const again = await fireblocks.vaults.createVaultAccountAsset({ vaultAccountId, assetId: 'ETH_TEST' })
    expect(again.data).toEqual(wallet.data)

    const addresses = await fireblocks.vaults.getVaultAccountAssetAddressesPaginated({
      vaultAccountId,
      assetId: 'ETH_TEST',
      limit: 1,
    })
    expect(addresses.data).toEqual({
      addresses: [
        {
          assetId: 'ETH_TEST',
          address,
          description: '',
          tag: '',
          type: 'Permanent',
          customerRefId: '',
          addressFormat: 'BASE',
          legacyAddress: '',
          enterpriseAddress: '',
          bip44AddressIndex: 0,
          userDefined: false,
        },
      ],
      paging: {},
    })

    const balance = await fireblocks.vaults.getVaultAccountAsset({ vaultAccountId, assetId: 'ETH_TEST' })
    expect(balance.data).toMatchObject({
      id: 'ETH_TEST',
      total: '0',
      balance: '0',
      available: '0',
      pending: '0',
    })
    for (const value of Object.values(balance.data)) expect(typeof value).toBe('string')
  })

  it('pages through vault accounts two at a time, forward and back, in both orders', async () => {
    const prefix = `page-${Date.now()}-`
    const ids: string[] = []
    for (let i = 0; i < 5; i++) ids.push((await newAccount(`${prefix}${i}`)).id!)
    const page = async (orderBy: 'ASC' | 'DESC', cursor: { before?: string; after?: string } = {}) =>
      (await fireblocks.vaults.getPagedVaultAccounts({ namePrefix: prefix, orderBy, limit: 2, ...cursor }))
        .data
    const names = (data: Awaited<ReturnType<typeof page>>) => data.accounts!.map((account) => account.id)

    const first = await page('ASC')
    expect(names(first)).toEqual(ids.slice(0, 2))
    expect(first.paging).toEqual({ after: ids[1] })
    expect(first.previousUrl).toBeUndefined()
    const nextUrl = new URL(first.nextUrl!)
    expect(nextUrl.origin + '/v1').toBe(baseUrl)
    expect(nextUrl.pathname).toBe('/v1/vault/accounts_paged')
    expect(nextUrl.searchParams.get('after')).toBe(ids[1])
    expect(nextUrl.searchParams.get('namePrefix')).toBe(prefix)

    const second = await page('ASC', { after: first.paging!.after! })
    expect(names(second)).toEqual(ids.slice(2, 4))
    expect(second.paging).toEqual({ before: ids[2], after: ids[3] })
    const last = await page('ASC', { after: second.paging!.after! })
    expect(names(last)).toEqual(ids.slice(4))
    expect(last.paging).toEqual({ before: ids[4] })
    expect(last.nextUrl).toBeUndefined()
    expect(new URL(last.previousUrl!).searchParams.get('before')).toBe(ids[4])
    const back = await page('ASC', { before: last.paging!.before! })
    expect(names(back)).toEqual(ids.slice(2, 4))
    expect(names(await page('ASC', { before: back.paging!.before! }))).toEqual(ids.slice(0, 2))

    const newest = await page('DESC')
    expect(names(newest)).toEqual([ids[4], ids[3]])
    const older = await page('DESC', { after: newest.paging!.after! })
    expect(names(older)).toEqual([ids[2], ids[1]])
    expect(names(await page('DESC', { before: older.paging!.before! }))).toEqual([ids[4], ids[3]])
  })

  it('filters the paged list by suffix and by asset held, and reads repeated tag keys', async () => {
    const tag = `f${Date.now()}`
    const holder = await newAccount(`${tag}-holder`)
    await newAccount(`${tag}-empty`)
    await fireblocks.vaults.createVaultAccountAsset({ vaultAccountId: holder.id!, assetId: 'BTC_TEST' })
    const list = async (query: Parameters<typeof fireblocks.vaults.getPagedVaultAccounts>[0]) =>
      (await fireblocks.vaults.getPagedVaultAccounts({ namePrefix: tag, ...query })).data.accounts!.map(
        (a) => a.name,
      )
    expect(await list({ nameSuffix: '-empty' })).toEqual([`${tag}-empty`])
    expect(await list({ assetId: 'BTC_TEST' })).toEqual([`${tag}-holder`])
    expect(await list({ includeTagIds: ['t1', 't2'] })).toEqual([])
    expect(await list({ excludeTagIds: ['t1', 't2'], orderBy: 'ASC' })).toEqual([
      `${tag}-holder`,
      `${tag}-empty`,
    ])
    const threshold = await failure(fireblocks.vaults.getPagedVaultAccounts({ minAmountThreshold: 1 }))
    expect(threshold.message).toContain('minAmountThreshold: is not supported by this hub')
    const bad = await failure(fireblocks.vaults.getPagedVaultAccounts({ after: 'abc' }))
    expect([bad.response?.statusCode, bad.response?.data.code]).toEqual([400, 1000])
    expect(bad.message).toContain('after')
  })

  it('answers unknown accounts, assets and endpoints with {message, code} the SDK surfaces', async () => {
    const missing = await failure(fireblocks.vaults.getVaultAccount({ vaultAccountId: '999999' }))
    expect(missing.message).toBe('Vault account Id was not found')
    expect([missing.response?.statusCode, missing.response?.data.code]).toEqual([404, 1004])

    const account = await newAccount('assets-404')
    const unknown = await failure(
      fireblocks.vaults.createVaultAccountAsset({ vaultAccountId: account.id!, assetId: 'DOGE /?%' }),
    )
    expect([unknown.response?.statusCode, unknown.response?.data.code]).toEqual([404, 1006])
    // The SDK encodes the path parameter; the hub decodes it exactly once.
    expect(unknown.message).toBe('Asset DOGE /?% does not exist on this hub')

    const noWallet = await failure(
      fireblocks.vaults.getVaultAccountAsset({ vaultAccountId: account.id!, assetId: 'BTC_TEST' }),
    )
    expect([noWallet.response?.statusCode, noWallet.response?.data.code]).toEqual([404, 1006])

    const response = await fetch(`${baseUrl}/no/such/thing`)
    expect(response.status).toBe(404)
    expect(await response.json()).toEqual({ message: 'no such endpoint: GET /v1/no/such/thing', code: 1404 })
  })

  it('gives BTC a new address at the next index each time and refuses one for ETH', async () => {
    const { id } = await newAccount('utxo')
    const vaultAccountId = id!
    await fireblocks.vaults.createVaultAccountAsset({ vaultAccountId, assetId: 'BTC_TEST' })
    const second = await fireblocks.vaults.createVaultAccountAssetAddress({
      vaultAccountId,
      assetId: 'BTC_TEST',
      createAddressRequest: { description: 'invoice 42', customerRefId: 'cust-42' },
    })
    expect(second.data).toEqual({
      address: `tb1q${digest([44, 1, Number(vaultAccountId), 0, 1]).slice(0, 38)}`,
      legacyAddress: '',
      enterpriseAddress: '',
      tag: '',
      bip44AddressIndex: 1,
    })
    const third = await fireblocks.vaults.createVaultAccountAssetAddress({
      vaultAccountId,
      assetId: 'BTC_TEST',
    })
    expect(third.data.bip44AddressIndex).toBe(2)

    const page = await fireblocks.vaults.getVaultAccountAssetAddressesPaginated({
      vaultAccountId,
      assetId: 'BTC_TEST',
      limit: 2,
    })
    expect(page.data.addresses!.map((a) => [a.bip44AddressIndex, a.description, a.addressFormat])).toEqual([
      [0, '', 'SEGWIT'],
      [1, 'invoice 42', 'SEGWIT'],
    ])
    expect(page.data.paging).toEqual({ after: '1' })
    const rest = await fireblocks.vaults.getVaultAccountAssetAddressesPaginated({
      vaultAccountId,
      assetId: 'BTC_TEST',
      after: page.data.paging!.after!,
    })
    expect(rest.data.addresses!.map((a) => a.bip44AddressIndex)).toEqual([2])
    expect(rest.data.paging).toEqual({ before: '2' })

    const legacy = await fetch(`${baseUrl}/vault/accounts/${vaultAccountId}/BTC_TEST/addresses`)
    expect(
      ((await legacy.json()) as { bip44AddressIndex: number }[]).map((a) => a.bip44AddressIndex),
    ).toEqual([0, 1, 2])

    await fireblocks.vaults.createVaultAccountAsset({ vaultAccountId, assetId: 'ETH_TEST' })
    const refused = await failure(
      fireblocks.vaults.createVaultAccountAssetAddress({ vaultAccountId, assetId: 'ETH_TEST' }),
    )
    expect(refused.response?.statusCode).toBe(400)
    expect(refused.message).toContain('ETH_TEST is account-based')
  })

  it('reports the ledger: settled funds as total, outgoing pending funds as not available', async () => {
    const { id } = await newAccount('funded')
    const vaultAccountId = id!
    await fireblocks.vaults.createVaultAccountAsset({ vaultAccountId, assetId: 'ETH_TEST' })
    await store.applyEntries([
      {
        entryId: `dep-${vaultAccountId}`,
        vaultId: vaultAccountId,
        assetId: 'ETH_TEST',
        delta: '1500000000000000000',
        state: 'settled',
        reason: 'deposit',
        txId: null,
      },
      {
        entryId: `out-${vaultAccountId}`,
        vaultId: vaultAccountId,
        assetId: 'ETH_TEST',
        delta: '-250000000000000000',
        state: 'pending',
        reason: 'transfer',
        txId: 'tx-1',
      },
    ])
    const expected = {
      id: 'ETH_TEST',
      total: '1.5',
      balance: '1.5',
      available: '1.25',
      pending: '0.25',
      frozen: '0',
    }
    expect(
      (await fireblocks.vaults.getVaultAccountAsset({ vaultAccountId, assetId: 'ETH_TEST' })).data,
    ).toMatchObject(expected)
    // A body-less POST with Content-Type: application/json, as the SDK sends it.
    expect(
      (await fireblocks.vaults.updateVaultAccountAssetBalance({ vaultAccountId, assetId: 'ETH_TEST' })).data,
    ).toMatchObject(expected)
    expect((await fireblocks.vaults.getVaultAccount({ vaultAccountId })).data.assets).toEqual([
      expect.objectContaining(expected),
    ])
    const totals = await fireblocks.vaults.getVaultAssets({ accountNamePrefix: 'funded' })
    expect(totals.data).toEqual([expect.objectContaining(expected)])
  })

  it('takes "default" for the first vault account, and activates an existing wallet', async () => {
    await newAccount('at-least-one')
    const first = (await fireblocks.vaults.getVaultAccount({ vaultAccountId: '0' })).data
    await fireblocks.vaults.createVaultAccountAsset({ vaultAccountId: 'default', assetId: 'BTC_TEST' })
    const balance = await fireblocks.vaults.getVaultAccountAsset({
      vaultAccountId: 'default',
      assetId: 'BTC_TEST',
    })
    expect(balance.data.id).toBe('BTC_TEST')
    const activated = await fireblocks.vaults.activateAssetForVaultAccount({
      vaultAccountId: first.id!,
      assetId: 'BTC_TEST',
    })
    expect(activated.data).toMatchObject({ id: '0', status: 'READY' })
  })

  it('refuses a wallet until a co-signer is paired, saying so', async () => {
    keys.paired = false
    const { id } = await newAccount('unpaired')
    const refused = await failure(
      fireblocks.vaults.createVaultAccountAsset({ vaultAccountId: id!, assetId: 'ETH_TEST' }),
    )
    expect(refused.response?.statusCode).toBe(400)
    expect(refused.message).toContain('pair a co-signer first')
    keys.paired = true
    const wallet = await fireblocks.vaults.createVaultAccountAsset({
      vaultAccountId: id!,
      assetId: 'ETH_TEST',
    })
    expect(wallet.data.status).toBe('READY')
  })

  it('serves public keys by derivation path and by address', async () => {
    const byPath = await fireblocks.vaults.getPublicKeyInfo({
      derivationPath: '[44,1,0,0,0]',
      algorithm: 'MPC_ECDSA_SECP256K1',
      compressed: true,
    })
    expect(byPath.data).toEqual({
      algorithm: 'MPC_ECDSA_SECP256K1',
      derivationPath: [44, 1, 0, 0, 0],
      publicKey: `02${digest('pk', [44, 1, 0, 0, 0])}`,
    })
    const byAddress = await fireblocks.vaults.getPublicKeyInfoForAddress({
      vaultAccountId: '0',
      assetId: 'ETH_TEST',
      change: 0,
      addressIndex: 3,
    })
    expect(byAddress.data).toEqual({
      algorithm: 'MPC_ECDSA_SECP256K1',
      derivationPath: [44, 1, 0, 0, 3],
      publicKey: `04${digest('pk', [44, 1, 0, 0, 3])}`,
    })
    const hardened = await failure(
      fireblocks.vaults.getPublicKeyInfo({
        derivationPath: '[44,2147483649,0]',
        algorithm: 'MPC_ECDSA_SECP256K1',
      }),
    )
    expect(hardened.response?.statusCode).toBe(400)
    const badAlgorithm = await failure(
      fireblocks.vaults.getPublicKeyInfo({ derivationPath: '[44]', algorithm: 'RSA' }),
    )
    expect(badAlgorithm.message).toContain('algorithm')
  })

  it('refuses a malformed create body with code 1002', async () => {
    const response = await fetch(`${baseUrl}/vault/accounts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 7, vaultType: 'KEY_LINK' }),
    })
    expect(response.status).toBe(400)
    const body = (await response.json()) as { message: string; code: number }
    expect(body.code).toBe(1002)
    expect(body.message).toMatch(/name: .*; vaultType: only MPC vault accounts/)
    const broken = await fetch(`${baseUrl}/vault/accounts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name":',
    })
    expect([broken.status, ((await broken.json()) as { code: number }).code]).toEqual([400, 1400])
  })
})

describe('vault routes when the store fails', () => {
  it('answers 500 without the cause, through the server error handler', async () => {
    const failing = new Proxy({} as VaultStore, {
      get: () => () => Promise.reject(new Error('disk on fire at /var/lib/secret')),
    })
    const app = createServiceServer({ log: pino({ level: 'silent' }) })
    app.addHook('onRequest', async (request) => setPrincipal(request, { id: 'u', name: 'u', role: 'ADMIN' }))
    await app.register(vaultRoutes({ store: failing, addressBook: fakeAddressBook({ paired: true }) }))
    try {
      const response = await app.inject({ method: 'GET', url: '/v1/vault/accounts/1' })
      expect(response.statusCode).toBe(500)
      expect(response.body).not.toContain('fire')
    } finally {
      await app.close()
    }
  })
})
