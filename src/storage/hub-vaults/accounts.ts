import { sql, type ExpressionBuilder } from 'kysely'
import { tables, type Executor } from '../database/index.js'
import { StoreUnavailable } from '../errors.js'
import { keysetPage, type Page, type PageRequest } from './paging.js'
import { VAULT_ACCOUNT_COUNTER, type HubVaultTables } from './schema.js'

export interface NewVaultAccount {
  readonly name: string
  readonly hiddenOnUI: boolean
  readonly customerRefId: string | null
  readonly autoFuel: boolean
}

export interface VaultAccountRecord extends NewVaultAccount {
  /** A numeric string, "0", "1", ... in the order the accounts were created. */
  readonly id: string
  readonly createdAt: number
}

export interface VaultAccountFilter {
  readonly namePrefix?: string
  readonly nameSuffix?: string
  /** Only accounts holding a wallet of this asset. */
  readonly assetId?: string
}

type AccountRow = HubVaultTables['hub_vault_accounts']

function toRecord(row: AccountRow): VaultAccountRecord {
  return {
    id: String(row.id),
    name: row.name,
    hiddenOnUI: Number(row.hidden_on_ui) === 1,
    customerRefId: row.customer_ref_id,
    autoFuel: Number(row.auto_fuel) === 1,
    createdAt: Number(row.created_at),
  }
}

/**
 * Takes the next account number from the counter row: the UPDATE locks the row until COMMIT, so two
 * replicas creating accounts together get different numbers, and a rolled-back creation leaves a gap.
 */
async function nextAccountNumber(db: Executor): Promise<number> {
  const row = await tables<HubVaultTables>(db)
    .updateTable('hub_vault_counters')
    .set({ next_value: sql`next_value + 1` })
    .where('name', '=', VAULT_ACCOUNT_COUNTER)
    .returning('next_value')
    .executeTakeFirst()
  if (row === undefined) throw new StoreUnavailable('the vault account counter row is missing')
  return Number(row.next_value) - 1
}

export async function createVaultAccount(
  db: Executor,
  account: NewVaultAccount,
  now: number,
): Promise<VaultAccountRecord> {
  const row: AccountRow = {
    id: await nextAccountNumber(db),
    name: account.name,
    hidden_on_ui: account.hiddenOnUI ? 1 : 0,
    customer_ref_id: account.customerRefId,
    auto_fuel: account.autoFuel ? 1 : 0,
    created_at: now,
  }
  await tables<HubVaultTables>(db).insertInto('hub_vault_accounts').values(row).execute()
  return toRecord(row)
}

export async function readVaultAccount(db: Executor, id: number): Promise<VaultAccountRecord | undefined> {
  const row = await tables<HubVaultTables>(db)
    .selectFrom('hub_vault_accounts')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst()
  return row === undefined ? undefined : toRecord(row)
}

/** Lengths in code points, as both databases count characters. */
const characters = (text: string) => [...text].length

type Accounts = ExpressionBuilder<HubVaultTables, 'hub_vault_accounts'>

/**
 * The filter as SQL both databases evaluate alike: `substr` rather than LIKE, which ignores case on SQLite
 * but not on PostgreSQL, and treats `%` and `_` in a name as wildcards.
 */
function matching(filter: VaultAccountFilter) {
  return (eb: Accounts) => {
    const conditions = []
    if (filter.namePrefix !== undefined)
      conditions.push(sql<boolean>`substr(name, 1, ${characters(filter.namePrefix)}) = ${filter.namePrefix}`)
    if (filter.nameSuffix !== undefined) {
      const length = characters(filter.nameSuffix)
      conditions.push(
        sql<boolean>`length(name) >= ${length} AND substr(name, length(name) - ${length} + 1) = ${filter.nameSuffix}`,
      )
    }
    if (filter.assetId !== undefined) {
      const assetId = filter.assetId
      conditions.push(
        eb.exists(
          eb
            .selectFrom('hub_vault_wallets')
            .select('hub_vault_wallets.vault_id')
            .whereRef('hub_vault_wallets.vault_id', '=', 'hub_vault_accounts.id')
            .where('hub_vault_wallets.asset_id', '=', assetId),
        ),
      )
    }
    return eb.and(conditions)
  }
}

export function pageVaultAccounts(
  db: Executor,
  filter: VaultAccountFilter,
  request: PageRequest,
): Promise<Page<VaultAccountRecord>> {
  return keysetPage(
    request,
    (account) => Number(account.id),
    async (from, sort, limit) => {
      let query = tables<HubVaultTables>(db)
        .selectFrom('hub_vault_accounts')
        .selectAll()
        .where(matching(filter))
      if (from !== undefined) query = query.where('id', from.op, from.key)
      const rows = await query.orderBy('id', sort).limit(limit).execute()
      return rows.map(toRecord)
    },
  )
}

/** The ids of the accounts matching `filter`, as a sub-query (for the workspace totals). */
export function accountIdsMatching(db: Executor, filter: VaultAccountFilter) {
  return tables<HubVaultTables>(db).selectFrom('hub_vault_accounts').select('id').where(matching(filter))
}
