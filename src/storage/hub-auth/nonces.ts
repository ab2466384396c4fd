import { tables, type Executor } from '../database/types.js'
import type { HubAuthTables } from './schema.js'

/**
 * Uses up a request nonce of an API user: one INSERT that the primary key makes fail on a nonce already
 * recorded, so it holds across replicas on one database and across restarts. A recorded nonce that has
 * expired (no token carrying it can be accepted any more) is taken over rather than refused. Returns
 * false, changing nothing, when the nonce is recorded and live: the request is a replay.
 */
export async function claimNonce(
  db: Executor,
  claim: { readonly apiKey: string; readonly nonce: string; readonly expiresAt: number },
  now: number,
): Promise<boolean> {
  const inserted = await tables<HubAuthTables>(db)
    .insertInto('hub_nonces')
    .values({ api_key: claim.apiKey, nonce: claim.nonce, expires_at: claim.expiresAt })
    .onConflict((conflict) =>
      conflict
        .columns(['api_key', 'nonce'])
        .doUpdateSet({ expires_at: claim.expiresAt })
        .where('hub_nonces.expires_at', '<=', now),
    )
    .returning('nonce')
    .execute()
  return inserted.length === 1
}

/** Deletes the nonces no token can carry any more; returns how many. */
export async function purgeExpiredNonces(db: Executor, now: number): Promise<number> {
  const deleted = await tables<HubAuthTables>(db)
    .deleteFrom('hub_nonces')
    .where('expires_at', '<=', now)
    .returning('nonce')
    .execute()
  return deleted.length
}
