import type { HubClient } from './hub-client.js'

/** The vault account `countersign dev` shows in its banner, with one wallet per test asset. */
export interface DemoVault {
  readonly id: string
  readonly name: string
  /** Asset id → its deposit address. */
  readonly addresses: Readonly<Record<string, string>>
}

export const DEMO_VAULT_NAME = 'demo'
export const DEMO_ASSETS = ['ETH_TEST6', 'BTC_TEST', 'SOL_TEST'] as const

interface AccountPage {
  readonly accounts: readonly { readonly id: string; readonly name: string }[]
}

/**
 * The vault account "demo" (vault 0 of a new workspace) with an ETH_TEST6, a BTC_TEST and a SOL_TEST
 * wallet, created the first time through the API and found by its name after. Adding a wallet that
 * exists answers its address, so every start reads the same three addresses.
 */
export async function ensureDemoVault(client: HubClient): Promise<DemoVault> {
  const page = await client.get<AccountPage>(
    `/v1/vault/accounts_paged?namePrefix=${DEMO_VAULT_NAME}&orderBy=ASC&limit=100`,
  )
  const id =
    page.accounts.find((account) => account.name === DEMO_VAULT_NAME)?.id ??
    (
      await client.post<{ id: string }>('/v1/vault/accounts', {
        name: DEMO_VAULT_NAME,
        hiddenOnUI: false,
        autoFuel: false,
      })
    ).id
  const addresses: Record<string, string> = {}
  for (const assetId of DEMO_ASSETS)
    addresses[assetId] = (
      await client.post<{ address: string }>(`/v1/vault/accounts/${id}/${assetId}`)
    ).address
  return { id, name: DEMO_VAULT_NAME, addresses }
}
