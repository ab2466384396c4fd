import type { Clock } from '../../core/index.js'
import { tables, type Executor, type StorageDatabase } from '../database/index.js'
import type { HubCosignerTables } from './schema.js'

/** How the co-signer of an API user reaches its callback handler, and how it authenticates the handler. */
export interface CallbackHandlerConfig {
  readonly url: string
  /** The handler's RSA public key (PEM) that signs its responses; null without one. */
  readonly publicKey: string | null
  /** The handler's TLS certificate (PEM), pinned by the co-signer; null without one. */
  readonly cert: string | null
  /** SHA-256 (hex) of the certificate's public key, what the API shows instead of the certificate. */
  readonly certPublicKeyHash: string | null
}

export interface StoredCallbackHandler extends CallbackHandlerConfig {
  readonly apiUserId: string
  /** The co-signer enrolment it was set for: a new pairing of the API user leaves it behind. */
  readonly cosignerId: string
  readonly updatedAt: number
}

export type CosignerRequestType = 'PAIR_API_KEY' | 'UPDATE_CALLBACK_HANDLER' | 'UNPAIR_API_KEY'
/** The SDK's `Status.status`; the hub applies a command at once, so it records `COMPLETED`. */
export type CosignerRequestStatus =
  'WAITING_FOR_APPROVAL' | 'APPROVED' | 'CANCELLED' | 'REJECTED' | 'COMPLETED'

export interface CosignerRequest {
  readonly id: string
  readonly cosignerId: string
  readonly apiUserId: string
  readonly type: CosignerRequestType
  readonly status: CosignerRequestStatus
  readonly createdAt: number
}

/** A command of the co-signers API, applied: the API user's callback handler after it (null: none). */
export interface CosignerCommand {
  readonly id: string
  readonly cosignerId: string
  readonly apiUserId: string
  readonly type: CosignerRequestType
  readonly callbackHandler: CallbackHandlerConfig | null
}

export interface HubCosignerStore {
  /** The names Admins gave co-signers, by co-signer id. */
  names(): Promise<ReadonlyMap<string, string>>
  rename(cosignerId: string, name: string): Promise<void>
  callbackHandler(apiUserId: string): Promise<StoredCallbackHandler | undefined>
  /** Sets or clears the API user's callback handler and records the command as completed, in one write. */
  apply(command: CosignerCommand): Promise<CosignerRequest>
  request(id: string): Promise<CosignerRequest | undefined>
}

type CallbackRow = HubCosignerTables['hub_cosigner_callbacks']
type RequestRow = HubCosignerTables['hub_cosigner_requests']

function toCallbackHandler(row: CallbackRow): StoredCallbackHandler {
  return {
    apiUserId: row.api_user_id,
    cosignerId: row.cosigner_id,
    url: row.url,
    publicKey: row.public_key,
    cert: row.cert,
    certPublicKeyHash: row.cert_public_key_hash,
    updatedAt: Number(row.updated_at),
  }
}

function toRequest(row: RequestRow): CosignerRequest {
  return {
    id: row.id,
    cosignerId: row.cosigner_id,
    apiUserId: row.api_user_id,
    type: row.type as CosignerRequestType,
    status: row.status as CosignerRequestStatus,
    createdAt: Number(row.created_at),
  }
}

async function setCallbackHandler(db: Executor, command: CosignerCommand, now: number): Promise<void> {
  const typed = tables<HubCosignerTables>(db)
  const handler = command.callbackHandler
  if (handler === null) {
    await typed.deleteFrom('hub_cosigner_callbacks').where('api_user_id', '=', command.apiUserId).execute()
    return
  }
  const row = {
    cosigner_id: command.cosignerId,
    url: handler.url,
    public_key: handler.publicKey,
    cert: handler.cert,
    cert_public_key_hash: handler.certPublicKeyHash,
    updated_at: now,
  }
  await typed
    .insertInto('hub_cosigner_callbacks')
    .values({ api_user_id: command.apiUserId, ...row })
    .onConflict((conflict) => conflict.column('api_user_id').doUpdateSet(row))
    .execute()
}

/**
 * The hub-cosigners capability: the co-signers API's own state beside the link's parties (names given by
 * Admins, each API user's callback handler, the commands and their status). Run `HUB_COSIGNER_MIGRATIONS`.
 */
export function hubCosignerStore(database: StorageDatabase, clock: Clock): HubCosignerStore {
  return {
    names: () =>
      database.read(async (db) => {
        const rows = await tables<HubCosignerTables>(db)
          .selectFrom('hub_cosigner_names')
          .selectAll()
          .execute()
        return new Map(rows.map((row) => [row.cosigner_id, row.name]))
      }),

    rename: (cosignerId, name) =>
      database.write(async ({ db }) => {
        const row = { name, renamed_at: clock.now() }
        await tables<HubCosignerTables>(db)
          .insertInto('hub_cosigner_names')
          .values({ cosigner_id: cosignerId, ...row })
          .onConflict((conflict) => conflict.column('cosigner_id').doUpdateSet(row))
          .execute()
      }),

    callbackHandler: (apiUserId) =>
      database.read(async (db) => {
        const row = await tables<HubCosignerTables>(db)
          .selectFrom('hub_cosigner_callbacks')
          .selectAll()
          .where('api_user_id', '=', apiUserId)
          .executeTakeFirst()
        return row === undefined ? undefined : toCallbackHandler(row)
      }),

    apply: (command) =>
      database.write(async ({ db }) => {
        const now = clock.now()
        await setCallbackHandler(db, command, now)
        const row: RequestRow = {
          id: command.id,
          cosigner_id: command.cosignerId,
          api_user_id: command.apiUserId,
          type: command.type,
          status: 'COMPLETED',
          created_at: now,
        }
        await tables<HubCosignerTables>(db).insertInto('hub_cosigner_requests').values(row).execute()
        return toRequest(row)
      }),

    request: (id) =>
      database.read(async (db) => {
        const row = await tables<HubCosignerTables>(db)
          .selectFrom('hub_cosigner_requests')
          .selectAll()
          .where('id', '=', id)
          .executeTakeFirst()
        return row === undefined ? undefined : toRequest(row)
      }),
  }
}
