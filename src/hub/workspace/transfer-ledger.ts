import {
  applyLedgerEntries,
  closeLedgerEntries,
  type HubTransaction,
  type WriteSession,
} from '../../storage/index.js'
import { parseAmount, type AssetRegistry } from '../chains/index.js'

/**
 * A transfer's movements in the vaults' ledger, written in the same write as the status change: the source's
 * debit is held (pending) when signing starts, settled when the transfer completes — with the credit of a
 * destination vault — and voided when it ends otherwise. Balances therefore show what the hub signed.
 */
const ENDED_WITHOUT_TRANSFER = new Set(['FAILED', 'REJECTED', 'CANCELLED', 'TIMEOUT'])

export function transferLedger(registry: AssetRegistry, now: () => number) {
  return async (session: WriteSession, tx: HubTransaction): Promise<void> => {
    const asset = registry.get(tx.assetId)
    if (tx.operation !== 'TRANSFER' || tx.sourceId === null || asset === undefined) return
    const debit = `tx:${tx.id}:debit`
    const units = parseAmount(asset, tx.request.amount, { positive: true })
    if (tx.status === 'PENDING_SIGNATURE')
      await applyLedgerEntries(
        session.db,
        [
          {
            entryId: debit,
            vaultId: tx.sourceId,
            assetId: asset.id,
            delta: (-units).toString(),
            state: 'pending',
            reason: 'transfer',
            txId: tx.id,
          },
        ],
        now(),
      )
    // Only a transaction that reached signing holds a debit.
    if (tx.attempt === 0) return
    if (tx.status === 'COMPLETED') {
      await closeLedgerEntries(session.db, [debit], 'settled', now())
      const destination = tx.request.destination as { type?: string; id?: string } | undefined
      if (destination?.type === 'VAULT_ACCOUNT' && destination.id !== undefined)
        await applyLedgerEntries(
          session.db,
          [
            {
              entryId: `tx:${tx.id}:credit`,
              vaultId: destination.id,
              assetId: asset.id,
              delta: units.toString(),
              state: 'settled',
              reason: 'transfer',
              txId: tx.id,
            },
          ],
          now(),
        )
    } else if (ENDED_WITHOUT_TRANSFER.has(tx.status))
      await closeLedgerEntries(session.db, [debit], 'void', now())
  }
}
