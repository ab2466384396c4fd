import { identifierProblem } from '../../protocol/index.js'
import { chunked, tables, type Executor } from '../database/index.js'
import { RecordRefused, StoreConflict } from '../errors.js'
import { accountIdsMatching, type VaultAccountFilter } from './accounts.js'
import type { HubVaultTables } from './schema.js'

/**
 * The balance ledger: every movement of a wallet's funds is an entry with a unique id, so a deposit seen
 * twice or a transaction settled twice counts once. A pending entry (an outgoing transfer not yet
 * confirmed, a deposit still confirming) becomes settled or void; balances are sums of the entries.
 */
export type LedgerState = 'pending' | 'settled' | 'void'

export interface LedgerEntry {
  readonly entryId: string
  readonly vaultId: string
  readonly assetId: string
  /** Signed integer in the asset's base units (wei, satoshi), as decimal text. */
  readonly delta: string
  readonly state: 'pending' | 'settled'
  readonly reason: string
  readonly txId: string | null
}

export interface WalletKey {
  readonly vaultId: string
  readonly assetId: string
}

/** Sums in base units: settled funds, and pending entries split by sign (so a credit never hides a debit). */
export interface LedgerSums {
  readonly settled: bigint
  /** The magnitude of the pending negative entries. */
  readonly pendingDebits: bigint
  readonly pendingCredits: bigint
}

export interface WalletBalance extends WalletKey, LedgerSums {}

type LedgerRow = HubVaultTables['hub_vault_ledger']

const INTEGER = /^-?(0|[1-9]\d*)$/

function checkEntry(entry: LedgerEntry): void {
  for (const [name, value] of [
    ['entryId', entry.entryId],
    ['assetId', entry.assetId],
    ['reason', entry.reason],
  ] as const) {
    const problem = identifierProblem(value)
    if (problem !== undefined) throw new RecordRefused(`ledger entry ${name} ${problem}`)
  }
  if (!INTEGER.test(entry.delta) || entry.delta === '-0')
    throw new RecordRefused(`ledger entry ${entry.entryId}: delta must be an integer in base units`)
  if (!/^\d+$/.test(entry.vaultId)) throw new RecordRefused(`ledger entry ${entry.entryId}: bad vault id`)
}

/** Whether a recorded entry is the one given again (its state may have moved on since). */
function sameEntry(row: LedgerRow, entry: LedgerEntry): boolean {
  return (
    String(row.vault_id) === entry.vaultId &&
    row.asset_id === entry.assetId &&
    row.delta === entry.delta &&
    row.reason === entry.reason &&
    row.tx_id === entry.txId
  )
}

/**
 * Applies each entry once: an id already recorded with the same content is skipped (a replay), with other
 * content refused (two movements cannot share an id). Returns the ids applied now.
 */
export async function applyLedgerEntries(
  db: Executor,
  entries: readonly LedgerEntry[],
  now: number,
): Promise<string[]> {
  entries.forEach(checkEntry)
  const ledger = tables<HubVaultTables>(db)
  const applied: string[] = []
  for (const chunk of chunked(entries, 9)) {
    const inserted = await ledger
      .insertInto('hub_vault_ledger')
      .values(
        chunk.map((entry) => ({
          entry_id: entry.entryId,
          vault_id: Number(entry.vaultId),
          asset_id: entry.assetId,
          delta: entry.delta,
          state: entry.state,
          reason: entry.reason,
          tx_id: entry.txId,
          at: now,
          state_at: now,
        })),
      )
      .onConflict((conflict) => conflict.column('entry_id').doNothing())
      .returning('entry_id')
      .execute()
    applied.push(...inserted.map((row) => row.entry_id))
  }
  await refuseReusedIds(db, entries, new Set(applied))
  return applied
}

async function refuseReusedIds(
  db: Executor,
  entries: readonly LedgerEntry[],
  applied: ReadonlySet<string>,
): Promise<void> {
  const replayed = entries.filter((entry) => !applied.has(entry.entryId))
  for (const chunk of chunked(replayed, 1)) {
    const rows = await tables<HubVaultTables>(db)
      .selectFrom('hub_vault_ledger')
      .selectAll()
      .where(
        'entry_id',
        'in',
        chunk.map((entry) => entry.entryId),
      )
      .execute()
    const recorded = new Map(rows.map((row) => [row.entry_id, row]))
    for (const entry of chunk) {
      const row = recorded.get(entry.entryId)
      if (row === undefined || !sameEntry(row, entry))
        throw new StoreConflict(`ledger entry ${entry.entryId} is already recorded with other content`)
    }
  }
}

/**
 * Moves pending entries to `to` (settled or void). An entry already in `to` is left as it is (a replay);
 * one that is unknown or went the other way is refused. Returns the ids moved now.
 */
export async function closeLedgerEntries(
  db: Executor,
  entryIds: readonly string[],
  to: 'settled' | 'void',
  now: number,
): Promise<string[]> {
  const ledger = tables<HubVaultTables>(db)
  const moved: string[] = []
  for (const chunk of chunked(entryIds, 1)) {
    const rows = await ledger
      .updateTable('hub_vault_ledger')
      .set({ state: to, state_at: now })
      .where('entry_id', 'in', [...chunk])
      .where('state', '=', 'pending')
      .returning('entry_id')
      .execute()
    moved.push(...rows.map((row) => row.entry_id))
  }
  const movedNow = new Set(moved)
  const rest = entryIds.filter((id) => !movedNow.has(id))
  for (const chunk of chunked(rest, 1)) {
    const rows = await ledger
      .selectFrom('hub_vault_ledger')
      .select(['entry_id', 'state'])
      .where('entry_id', 'in', [...chunk])
      .execute()
    const states = new Map(rows.map((row) => [row.entry_id, row.state]))
    for (const id of chunk)
      if (states.get(id) !== to)
        throw new StoreConflict(`ledger entry ${id} is ${states.get(id) ?? 'not recorded'}, not pending`)
  }
  return moved
}

const NOTHING: LedgerSums = { settled: 0n, pendingDebits: 0n, pendingCredits: 0n }

function add<T extends LedgerSums>(balance: T, row: Pick<LedgerRow, 'delta' | 'state'>): T {
  const delta = BigInt(row.delta)
  if (row.state === 'settled') return { ...balance, settled: balance.settled + delta }
  if (delta < 0n) return { ...balance, pendingDebits: balance.pendingDebits - delta }
  return { ...balance, pendingCredits: balance.pendingCredits + delta }
}

const walletKey = (vaultId: string, assetId: string) => `${vaultId}\u0000${assetId}`

/**
 * Sums the live entries of the given wallets, in the order given. Deltas are summed here with bigint, not
 * by SQL: SQLite's integers stop at 2^63, short of many wei amounts.
 */
export async function readBalances(db: Executor, wallets: readonly WalletKey[]): Promise<WalletBalance[]> {
  const balances = new Map(
    wallets.map((key) => [walletKey(key.vaultId, key.assetId), { ...key, ...NOTHING }]),
  )
  const vaultIds = [...new Set(wallets.map((key) => Number(key.vaultId)))]
  for (const chunk of chunked(vaultIds, 1)) {
    const rows = await tables<HubVaultTables>(db)
      .selectFrom('hub_vault_ledger')
      .select(['vault_id', 'asset_id', 'delta', 'state'])
      .where('vault_id', 'in', [...chunk])
      .where('state', '!=', 'void')
      .execute()
    for (const row of rows) {
      const key = walletKey(String(row.vault_id), row.asset_id)
      const balance = balances.get(key)
      if (balance !== undefined) balances.set(key, add(balance, row))
    }
  }
  return wallets.map((key) => balances.get(walletKey(key.vaultId, key.assetId))!)
}

/** Per asset, the sums over every wallet of the accounts matching `filter` (the workspace totals). */
export async function readAssetTotals(
  db: Executor,
  filter: VaultAccountFilter,
): Promise<Map<string, LedgerSums>> {
  const rows = await tables<HubVaultTables>(db)
    .selectFrom('hub_vault_ledger')
    .select(['asset_id', 'delta', 'state'])
    .where('vault_id', 'in', accountIdsMatching(db, filter))
    .where('state', '!=', 'void')
    .execute()
  const totals = new Map<string, LedgerSums>()
  for (const row of rows) totals.set(row.asset_id, add(totals.get(row.asset_id) ?? NOTHING, row))
  return totals
}
