import { tables, type Executor } from '../database/types.js'
import { NotFound } from '../errors.js'
import type { HubAuthTables } from './schema.js'

/** An API user of the hub: who may call the REST API, with which key, from where and in which role. */
export interface ApiUserRecord {
  /** The API key (a UUID). */
  readonly id: string
  readonly name: string
  readonly role: string
  /** SPKI PEM of the RSA key the API user's JWTs verify with. */
  readonly publicKeyPem: string
  /** IPv4 addresses the API user may call from; empty admits any. */
  readonly allowedIps: readonly string[]
  readonly enabled: boolean
  readonly createdAt: number
}

type ApiUserRow = HubAuthTables['hub_api_users']

function toRecord(row: ApiUserRow): ApiUserRecord {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    publicKeyPem: row.public_key_pem,
    allowedIps: JSON.parse(row.allowed_ips_json) as string[],
    enabled: Number(row.enabled) === 1,
    createdAt: Number(row.created_at),
  }
}

/** Registers an API user; its id is a fresh UUID, so a conflict is a caller's bug and fails the write. */
export async function insertApiUser(db: Executor, user: ApiUserRecord): Promise<void> {
  await tables<HubAuthTables>(db)
    .insertInto('hub_api_users')
    .values({
      id: user.id,
      name: user.name,
      role: user.role,
      public_key_pem: user.publicKeyPem,
      allowed_ips_json: JSON.stringify(user.allowedIps),
      enabled: user.enabled ? 1 : 0,
      created_at: user.createdAt,
    })
    .execute()
}

export async function findApiUser(db: Executor, id: string): Promise<ApiUserRecord | undefined> {
  const row = await tables<HubAuthTables>(db)
    .selectFrom('hub_api_users')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst()
  return row === undefined ? undefined : toRecord(row)
}

/** Every API user, oldest first. */
export async function listApiUsers(db: Executor): Promise<ApiUserRecord[]> {
  const rows = await tables<HubAuthTables>(db)
    .selectFrom('hub_api_users')
    .selectAll()
    .orderBy('created_at')
    .orderBy('id')
    .execute()
  return rows.map(toRecord)
}

/** Replaces an API user's IP allow-list (validated by the caller); unknown user → `NotFound`. */
export async function setApiUserAllowedIps(
  db: Executor,
  id: string,
  allowedIps: readonly string[],
): Promise<void> {
  const updated = await tables<HubAuthTables>(db)
    .updateTable('hub_api_users')
    .set({ allowed_ips_json: JSON.stringify(allowedIps) })
    .where('id', '=', id)
    .returning('id')
    .execute()
  if (updated.length === 0) throw new NotFound(`no API user ${JSON.stringify(id)} is registered`)
}
