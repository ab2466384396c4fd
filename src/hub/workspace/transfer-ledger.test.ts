import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { sqliteDatabase } from '../../../test/support/databases.js'
import { systemClock } from '../../core/index.js'
import {
  HUB_VAULT_MIGRATIONS,
  migrate,
  openDatabase,
  vaultStore,
  type HubTransaction,
  type StorageDatabase,
} from '../../storage/index.js'
import { assetRegistry } from '../chains/index.js'
import { transferLedger } from './transfer-ledger.js'

const T0 = 1_767_225_600_000

function transfer(id: string, status: string, attempt: number, destination: unknown): HubTransaction {
  return {
    id,
    externalTxId: null,
    createdBy: 'u',
    operation: 'TRANSFER',
    assetId: 'ETH_TEST6',
    sourceId: '0',
    status,
    subStatus: '',
    request: { amount: '0.25', destination },
    detail: {},
    ruleId: null,
    signer: null,
    attempt,
    createdAt: T0,
    lastUpdated: T0,
  }
}

describe('the ledger side of a transfer', () => {
  const opened: StorageDatabase[] = []
  afterEach(async () => {
    for (const db of opened.splice(0)) await db.close()
  })
  afterAll(() => sqliteDatabase.dropAll())

  async function run(steps: HubTransaction[]) {
    const db = openDatabase(await sqliteDatabase.freshUrl())
    opened.push(db)
    await migrate(db, HUB_VAULT_MIGRATIONS, T0)
    const account = transferLedger(assetRegistry(), () => T0)
    for (const step of steps) await db.write((session) => account(session, step))
    const balances = await vaultStore(db, systemClock).balances([
      { vaultId: '0', assetId: 'ETH_TEST6' },
      { vaultId: '1', assetId: 'ETH_TEST6' },
    ])
    return balances.map(({ settled, pendingDebits }) => ({ settled, pendingDebits }))
  }

  const toVault = { type: 'VAULT_ACCOUNT', id: '1' }
  const oneTime = { type: 'ONE_TIME_ADDRESS', oneTimeAddress: { address: '0xdead' } }

  it('holds the debit while signing, settles it with the destination vault credit on completion', async () => {
    const quarter = 250_000_000_000_000_000n
    expect(await run([transfer('a', 'PENDING_SIGNATURE', 1, toVault)])).toEqual([
      { settled: 0n, pendingDebits: quarter },
      { settled: 0n, pendingDebits: 0n },
    ])
    expect(
      await run([transfer('a', 'PENDING_SIGNATURE', 1, toVault), transfer('a', 'COMPLETED', 1, toVault)]),
    ).toEqual([
      { settled: -quarter, pendingDebits: 0n },
      { settled: quarter, pendingDebits: 0n },
    ])
  })

  it('voids the debit of a transfer that fails, and records nothing for one blocked before signing', async () => {
    expect(
      await run([transfer('b', 'PENDING_SIGNATURE', 1, oneTime), transfer('b', 'FAILED', 1, oneTime)]),
    ).toEqual([
      { settled: 0n, pendingDebits: 0n },
      { settled: 0n, pendingDebits: 0n },
    ])
    expect(await run([transfer('c', 'BLOCKED', 0, oneTime)])).toEqual([
      { settled: 0n, pendingDebits: 0n },
      { settled: 0n, pendingDebits: 0n },
    ])
  })
})
