import { tables, type Executor } from '../database/index.js'
import type { HubLinkTables } from './schema.js'

export type PartyKind = 'cloud' | 'customer'

/** A signing party as the hub knows it; its refresh token is never returned, only checked by hash. */
export interface LinkParty {
  readonly name: string
  readonly kind: PartyKind
  /** Its X25519 public key, base64url. */
  readonly partyKey: string
  readonly cosignerId: string
  readonly displayName: string | null
  readonly enrolledAt: number
  /** When it last polled its mailbox (its heartbeat). */
  readonly lastSeen: number | null
  /** When it last said it stops (closed its WebSocket with 1000); gone until seen again after that. */
  readonly leftAt: number | null
  readonly revokedAt: number | null
  /** The Ed25519 public key (base64url) of its configuration-change approvals; null for a cloud. */
  /** The process it was last heard from (sent by the party): a new one means it restarted. */
  readonly instance: string | null
  readonly configKey: string | null
}

export interface Enrolment {
  readonly name: string
  readonly kind: PartyKind
  readonly partyKey: string
  readonly cosignerId: string
  readonly displayName: string | null
  /** SHA-256 (hex) of the refresh token handed to the party. */
  readonly refreshHash: string
  readonly configKey?: string | null
}

/** What a presented refresh token is: the current one of a party, one that was revoked, or unknown. */
export type RefreshLookup =
  { readonly status: 'current'; readonly party: LinkParty } | { readonly status: 'revoked' | 'unknown' }

type PartyRow = HubLinkTables['hub_link_parties']

function toParty(row: PartyRow): LinkParty {
  return {
    name: row.name,
    kind: row.kind as PartyKind,
    partyKey: row.party_key,
    cosignerId: row.cosigner_id,
    displayName: row.display_name,
    enrolledAt: Number(row.enrolled_at),
    lastSeen: row.last_seen === null ? null : Number(row.last_seen),
    leftAt: row.left_at === null ? null : Number(row.left_at),
    instance: row.instance,
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
    configKey: row.config_key,
  }
}

/** Consumes a pairing token's `jti`; false when it was consumed before (by any replica, at any time). */
export async function consumePairingToken(
  db: Executor,
  jti: string,
  party: string,
  now: number,
): Promise<boolean> {
  const inserted = await tables<HubLinkTables>(db)
    .insertInto('hub_link_pairing_tokens')
    .values({ jti, party, consumed_at: now })
    .onConflict((conflict) => conflict.column('jti').doNothing())
    .executeTakeFirst()
  return Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1
}

/** Moves the party's current refresh token, if any, to the revoked list. */
export async function revokeRefreshToken(db: Executor, name: string, now: number): Promise<boolean> {
  const link = tables<HubLinkTables>(db)
  const row = await link
    .selectFrom('hub_link_parties')
    .select('refresh_hash')
    .where('name', '=', name)
    .executeTakeFirst()
  if (row?.refresh_hash == null) return false
  await link
    .insertInto('hub_link_revoked_refresh')
    .values({ hash: row.refresh_hash, party: name, revoked_at: now })
    .onConflict((conflict) => conflict.column('hash').doNothing())
    .execute()
  await link
    .updateTable('hub_link_parties')
    .set({ refresh_hash: null, revoked_at: now })
    .where('name', '=', name)
    .execute()
  return true
}

/** Records the party with its new key and refresh token, revoking the refresh token it had before. */
export async function enrol(db: Executor, enrolment: Enrolment, now: number): Promise<void> {
  await revokeRefreshToken(db, enrolment.name, now)
  const row = {
    kind: enrolment.kind,
    party_key: enrolment.partyKey,
    cosigner_id: enrolment.cosignerId,
    display_name: enrolment.displayName,
    refresh_hash: enrolment.refreshHash,
    enrolled_at: now,
    revoked_at: null,
    config_key: enrolment.configKey ?? null,
  }
  await tables<HubLinkTables>(db)
    .insertInto('hub_link_parties')
    .values({ name: enrolment.name, last_seen: null, left_at: null, instance: null, ...row })
    .onConflict((conflict) => conflict.column('name').doUpdateSet(row))
    .execute()
}

export async function readParty(db: Executor, name: string): Promise<LinkParty | undefined> {
  const row = await tables<HubLinkTables>(db)
    .selectFrom('hub_link_parties')
    .selectAll()
    .where('name', '=', name)
    .executeTakeFirst()
  return row === undefined ? undefined : toParty(row)
}

export async function listParties(db: Executor): Promise<LinkParty[]> {
  const rows = await tables<HubLinkTables>(db)
    .selectFrom('hub_link_parties')
    .selectAll()
    .orderBy('name')
    .execute()
  return rows.map(toParty)
}

export async function lookupRefreshHash(db: Executor, hash: string): Promise<RefreshLookup> {
  const link = tables<HubLinkTables>(db)
  const row = await link
    .selectFrom('hub_link_parties')
    .selectAll()
    .where('refresh_hash', '=', hash)
    .executeTakeFirst()
  if (row !== undefined) return { status: 'current', party: toParty(row) }
  const revoked = await link
    .selectFrom('hub_link_revoked_refresh')
    .select('hash')
    .where('hash', '=', hash)
    .executeTakeFirst()
  return { status: revoked === undefined ? 'unknown' : 'revoked' }
}

/** Records that the party was heard from at `now`, by its process `instance` (null: it does not say). */
export async function touchParty(
  db: Executor,
  name: string,
  now: number,
  instance: string | null,
): Promise<void> {
  await tables<HubLinkTables>(db)
    .updateTable('hub_link_parties')
    .set({ last_seen: now, instance })
    .where('name', '=', name)
    .execute()
}

/** Records that the party said it stops; its next heartbeat (after `now`) brings it back. */
export async function leaveParty(db: Executor, name: string, now: number): Promise<void> {
  await tables<HubLinkTables>(db)
    .updateTable('hub_link_parties')
    .set({ left_at: now })
    .where('name', '=', name)
    .execute()
}
